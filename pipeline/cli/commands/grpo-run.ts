// The work of `flowreasoner grpo` (and of demo's last stage), loaded only when it runs: grpo.ts registers the command without the engine.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { PipelineError } from '../../errors.ts';
import { baseUrlsOf } from '../../config/endpoint-schema.ts';
import { createExecutor } from '../../sandbox/create-executor.ts';
import { runGrpo, type GrpoSummary } from '../../../grpo/run-grpo.ts';
import { openRun, stageDepsOf } from '../run-context.ts';
import { createProgress, type Progress } from '../progress.ts';
import { unackedSteps } from '../../../grpo/exchange/acks.ts';
import { printSummary } from '../output.ts';
import { keyEnvNamesOf } from '../../sandbox/host-uid-guard.ts';
import { grpoSummaryRows, type GrpoCliOptions } from './grpo.ts';

/** The consumer id of scripts/trainers/reference_consumer.py when it stands in for the trainer. */
const REFERENCE_CONSUMER = 'reference';

/** Runs the grpo stage as a command does (also used by `demo`). */
export async function grpoCommand(opts: GrpoCliOptions, defaultConfig: string, command: string, existingRunDir?: string): Promise<{ summary: GrpoSummary; status: 'completed' | 'failed' }> {
  const ctx = await openRun(command, existingRunDir !== undefined ? { ...opts, resume: existingRunDir, allowConfigChange: true } : opts, defaultConfig);
  const cfg = ctx.config.grpo;
  const executor = createExecutor(ctx.config.sandbox, { keyEnvNames: keyEnvNamesOf(ctx.config) });
  if (executor.info.warning !== null) process.stderr.write(`warning: ${executor.info.warning}\n`);
  let consumer: ChildProcess | null = null;
  let consumerDone: Promise<number | null> = Promise.resolve(0);
  let exchangeRoot: string | null = null;
  // Whose acks close the run: the reference consumer when it stands in for the trainer, else the configured trainer.
  const trainerConsumer = cfg.trainer.referenceConsumer ? REFERENCE_CONSUMER : cfg.trainer.consumer;
  try {
    await ctx.gateway.preflight([cfg.policyRole, cfg.workerRole]);
    const policyEndpoint = ctx.gateway.endpoint(cfg.policyRole);
    // Created once the run knows where it goes on, so a resumed run's bar and eta count only the steps still to do.
    let bar: Progress | null = null;
    const summary = await runGrpo({
      cfg,
      ...stageDepsOf(ctx, executor),
      policyModel: policyEndpoint.model,
      policyBaseUrl: ctx.gateway.urlsOf(cfg.policyRole)[0] ?? (baseUrlsOf(policyEndpoint)[0] ?? null),
      signal: ctx.signal,
      onExchange: async ({ url, root, firstStep, steps }) => {
        process.stdout.write(`grpo-exchange/v1 at ${root}, HTTP ${url}\n`);
        exchangeRoot = root;
        bar = createProgress('grpo', steps, { start: Math.min(firstStep, steps) });
        if (firstStep >= steps) {
          // Every step is committed; with the reference consumer as trainer, it must also have acked each of them, or it
          // is started below to finish the rest. Anything else would wait for steps that never come.
          const unacked = trainerConsumer !== undefined ? (await unackedSteps(root, trainerConsumer)).filter((st) => st < steps) : [];
          if (unacked.length === 0) {
            process.stdout.write(`all ${steps} step${steps === 1 ? '' : 's'} already committed${trainerConsumer !== undefined ? ` and acked by ${trainerConsumer}` : ''}; nothing to do\n`);
            return;
          }
        }
        if (cfg.trainer.referenceConsumer) {
          // The reference consumer stands in for a trainer: it verifies, acks and publishes a new policy version per step.
          const script = path.resolve('scripts/trainers/reference_consumer.py');
          // --steps, not --max-steps: it stops once the server reports steps 0..N-1 acked, counting acks of earlier parts of the run.
          consumer = spawn('python3', [script, '--url', url, '--consumer', REFERENCE_CONSUMER, '--root', root, '--steps', String(steps), '--state', path.join(root, 'reference-consumer.state.json')], {
            stdio: ['ignore', 'ignore', 'inherit'],
            env: { ...process.env, ...(cfg.exchange.tokenEnv !== undefined ? { GRPO_EXCHANGE_TOKEN: process.env[cfg.exchange.tokenEnv] ?? '' } : {}) },
          });
          const c = consumer;
          consumerDone = new Promise((resolve) => c.on('exit', (code) => resolve(code)));
        }
      },
      onWaiting: (message) => process.stderr.write(`[${new Date().toISOString()}] ${message}\n`),
      onStep: (m) => (bar as Progress | null)?.tick(1, { step: m.step, reward: m.rewardMean.toFixed(2), pass: m.passRate.toFixed(2) }),
      beforeClose: async () => {
        if (consumer === null) {
          if (trainerConsumer !== undefined && exchangeRoot !== null) await waitForAcks(exchangeRoot, trainerConsumer, cfg.steps, cfg.policy.waitTimeoutS, ctx.signal);
          return;
        }
        // Give the trainer stand-in time to consume the last step before the exchange closes.
        const code = await Promise.race([consumerDone, new Promise<number | null>((r) => setTimeout(() => r(-1), 120_000))]);
        if (code !== 0) throw new PipelineError('server-error', `the reference consumer exited with ${code}`);
      },
    });
    (bar as Progress | null)?.stop();
    await ctx.store.writeJson('grpo/summary.json', summary);
    printSummary(command === 'grpo' ? 'grpo' : `${command}: grpo`, grpoSummaryRows(summary));
    await ctx.close('completed', summary as unknown as Record<string, unknown>);
    return { summary, status: 'completed' };
  } catch (e) {
    await ctx.close(e instanceof PipelineError && e.code === 'aborted' ? 'interrupted' : 'failed', undefined, e);
    throw e;
  } finally {
    (consumer as ChildProcess | null)?.kill('SIGTERM');
    await executor.close();
  }
}

/** Polls the ack files until `consumer` has acked steps 0..steps-1; the exchange stays open meanwhile. */
async function waitForAcks(root: string, consumer: string, steps: number, timeoutS: number, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    const left = (await unackedSteps(root, consumer)).filter((s) => s < steps);
    if (left.length === 0) return;
    if (signal.aborted) throw new PipelineError('aborted', 'interrupted');
    if (Date.now() > deadline) {
      throw new PipelineError('server-error', `trainer ${consumer} has not acked step${left.length === 1 ? '' : 's'} ${left.join(', ')} after ${timeoutS} s (grpo.policy.waitTimeoutS)`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
