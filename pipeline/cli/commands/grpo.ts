// `flowreasoner grpo`: rollouts, rewards and advantages, handed to an external trainer over grpo-exchange/v1.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Command } from 'commander';
import { PipelineError } from '../../errors.ts';
import { baseUrlsOf } from '../../config/endpoint-schema.ts';
import { Executor } from '../../sandbox/executor.ts';
import { checkTeacherReply } from '../../workflow/check-reply.ts';
import { runGrpo, type GrpoSummary } from '../../../grpo/run-grpo.ts';
import { collect, dataDirOf, openRun, type CommonOptions } from '../run-context.ts';
import { createProgress } from '../progress.ts';
import { fmtUsd, printSummary } from '../output.ts';
import { keyEnvNamesOf } from '../../sandbox/host-uid-guard.ts';

export type GrpoCliOptions = CommonOptions;

export function grpoSummaryRows(s: GrpoSummary): Array<[string, string | number]> {
  return [
    ['steps', `${s.stepsThisRun} this run (from step ${s.firstStep}), ${s.steps} configured`],
    ['exchange', `${s.exchangeRoot} (served at ${s.exchangeUrl} while running)`],
    ['prompt set', s.promptSet.map((p) => (p.rows > 0 ? `${path.relative(s.exchangeRoot, p.path)} ${p.rows}` : `${p.split} empty (no file)`)).join(', ')],
    ['reward', `mean ${s.meanReward.toFixed(3)}, hidden pass rate ${(s.meanPassRate * 100).toFixed(1)}%`],
    ['filtered groups', s.filteredGroups],
    ['policy version', s.finalPolicyVersion],
    ['cost', fmtUsd(s.cost)],
  ];
}

/** Runs the grpo stage as a command does (also used by `demo`). */
export async function grpoCommand(opts: GrpoCliOptions, defaultConfig: string, command: string, existingRunDir?: string): Promise<{ summary: GrpoSummary; status: 'completed' | 'failed' }> {
  const ctx = await openRun(command, existingRunDir !== undefined ? { ...opts, resume: existingRunDir, allowConfigChange: true } : opts, defaultConfig);
  const cfg = ctx.config.grpo;
  const executor = new Executor(ctx.config.sandbox, { keyEnvNames: keyEnvNamesOf(ctx.config) });
  if (executor.info.warning !== null) process.stderr.write(`warning: ${executor.info.warning}\n`);
  let consumer: ChildProcess | null = null;
  let consumerDone: Promise<number | null> = Promise.resolve(0);
  try {
    await ctx.gateway.preflight([cfg.policyRole, cfg.workerRole]);
    const policyEndpoint = ctx.gateway.endpoint(cfg.policyRole);
    const bar = createProgress('grpo', cfg.steps);
    const summary = await runGrpo({
      cfg,
      seed: ctx.config.run.seed,
      dataDir: dataDirOf(ctx.config),
      store: ctx.store,
      gateway: ctx.gateway,
      executor,
      checkReply: checkTeacherReply,
      logger: ctx.logger,
      policyModel: policyEndpoint.model,
      policyBaseUrl: ctx.gateway.urlsOf(cfg.policyRole)[0] ?? (baseUrlsOf(policyEndpoint)[0] ?? null),
      signal: ctx.signal,
      onExchange: ({ url, root }) => {
        process.stdout.write(`grpo-exchange/v1 at ${root}, HTTP ${url}\n`);
        if (cfg.trainer.referenceConsumer) {
          // The reference consumer stands in for a trainer: it verifies, acks and publishes a new policy version per step.
          const script = path.resolve('scripts/trainers/reference_consumer.py');
          consumer = spawn('python3', [script, '--url', url, '--consumer', 'reference', '--root', root, '--max-steps', String(cfg.steps), '--state', path.join(root, 'reference-consumer.state.json')], {
            stdio: ['ignore', 'ignore', 'inherit'],
            env: { ...process.env, ...(cfg.exchange.tokenEnv !== undefined ? { GRPO_EXCHANGE_TOKEN: process.env[cfg.exchange.tokenEnv] ?? '' } : {}) },
          });
          const c = consumer;
          consumerDone = new Promise((resolve) => c.on('exit', (code) => resolve(code)));
        }
      },
      onStep: (m) => bar.tick(1, { step: m.step, reward: m.rewardMean.toFixed(2), pass: m.passRate.toFixed(2) }),
      beforeClose: async () => {
        if (consumer === null) return;
        // Give the trainer stand-in time to consume the last step before the exchange closes.
        const code = await Promise.race([consumerDone, new Promise<number | null>((r) => setTimeout(() => r(-1), 120_000))]);
        if (code !== 0) throw new PipelineError('server-error', `the reference consumer exited with ${code}`);
      },
    });
    bar.stop();
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

export function registerGrpo(program: Command): void {
  program
    .command('grpo')
    .description('GRPO rollouts: sample G workflows per prompt from the policy, execute and score them, compute advantages, hand batches to the trainer (grpo-exchange/v1).')
    .option('-c, --config <file>', 'YAML config (e.g. configs/14b.yaml)')
    .option('--set <key=value>', 'override a config key (repeatable)', collect, [])
    .option('-o, --out <dir>', 'run directory (default: runs/<run-id>)')
    .option('--resume <run-dir>', 'continue: no step is lost, duplicated or half-written')
    .option('--allow-config-change', 'with --resume: accept a config that differs from the frozen one')
    .option('--no-cache', 'bypass the response cache')
    .addHelpText(
      'after',
      `
Example:
  $ vllm serve <student> --port 8000 --enable-lora   # the policy
  $ flowreasoner grpo --config configs/14b.yaml
  $ python3 scripts/trainers/reference_consumer.py --url http://127.0.0.1:<port> --consumer me   # or your trainer's adapter
Outputs: <run>/exchange/ (run.json, datasets/rl/train.parquet [+ val.parquet], rollouts/step=N/…, acks/, policy/) and <run>/grpo/metrics.jsonl.`,
    )
    .action(async (opts: GrpoCliOptions) => {
      if (opts.config === undefined && opts.resume === undefined) throw new PipelineError('usage', 'grpo needs --config (e.g. configs/14b.yaml or configs/demo.yaml) or --resume DIR');
      await grpoCommand(opts, 'configs/14b.yaml', 'grpo');
    });
}
