// The GRPO stage: step after step of pipelined rollouts, written to the grpo-exchange/v1 layout for an external trainer,
// with policy versions from the trainer, the HTTP exchange served alongside, metrics per step, resumable at any point.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { PipelineError } from '../pipeline/errors.ts';
import { readJournal } from '../pipeline/store/journal.ts';
import type { GrpoConfig } from './config-schema.ts';
import { selectPrompts, selectValidationPrompts } from './select-prompts.ts';
import { tokenizerIdentity } from './tokenizer-identity.ts';
import { writePromptSet, type PromptSetResult } from './exchange/prompt-set.ts';
import { metaAgentMessages } from '../pipeline/prompts/meta-agent-turns.ts';
import { datasetOfSource } from './task-resolver.ts';
import type { RlQuery, RlSplit } from '../pipeline/export/rl-prompts.ts';
import type { StepQuery } from './run-step.ts';
import { runStep, type StepResult } from './run-step.ts';
import { rewardHooks } from './reward-hooks.ts';
import type { RemoteScoreDeps } from './remote-scorer.ts';
import { openRlhfScorer, verlScorer } from './score-routes.ts';
import { createTaskResolver } from './task-resolver.ts';
import { writeStep, removeStaleStepTmpDirs } from './exchange/rollout-writer.ts';
import { listCommittedSteps } from './exchange/rollout-reader.ts';
import { readRunManifest, writeRunManifest } from './exchange/run-manifest.ts';
import { publishPolicy, readPolicy, waitForPolicyVersion } from './exchange/policy-store.ts';
import { ackedConsumers } from './exchange/acks.ts';
import { startExchangeServer, type ExchangeServer } from './exchange/http-server.ts';
import type { Policy } from './exchange/schema.ts';
import { loadLoraAdapter } from './lora.ts';
import type { StageDeps } from '../pipeline/stage-deps.ts';

export interface GrpoDeps extends StageDeps {
  cfg: GrpoConfig;
  /** The policy role's model name and base URL (for run.json and LoRA hot-loading). */
  policyModel: string;
  policyBaseUrl: string | null;
  signal: AbortSignal;
  /**
   * Called once the exchange is up (so a trainer can be started against it). `firstStep` is where this run goes on:
   * equal to `steps` when every step was committed by an earlier part of the run.
   */
  onExchange?: (info: { url: string; root: string; firstStep: number; steps: number }) => Promise<void> | void;
  /** Told every few seconds while the stage waits for the trainer, with a line that says for what, how long, and the limit. */
  onWaiting?: (message: string) => void;
  onStep?: (m: StepMetrics) => void;
  /** Awaited after the last step and before the exchange server closes (e.g. until the trainer consumed every step). */
  beforeClose?: () => Promise<void>;
}

export interface StepMetrics {
  step: number;
  groups: number;
  samples: number;
  rows: number;
  rewardMean: number;
  rewardStd: number;
  components: Record<string, number>;
  passRate: number;
  validFormat: number;
  operatorCallSites: number;
  policyTokens: number;
  workerTokens: number;
  cost: number;
  filteredGroups: number;
  unscorable: number;
  samplingS: number;
  executionS: number;
  writeS: number;
  wallS: number;
  staleness: number;
  policyVersion: number;
  cursorEnd: number;
}

export interface GrpoSummary {
  steps: number;
  /** datasets/rl/ of the exchange; a split with 0 rows has no file. */
  promptSet: PromptSetResult[];
  stepsThisRun: number;
  firstStep: number;
  exchangeRoot: string;
  exchangeUrl: string;
  meanReward: number;
  meanPassRate: number;
  filteredGroups: number;
  finalPolicyVersion: number;
  /**
   * USD spent by this stage's own calls (stages `grpo` and `grpo-score`: policy sampling, worker calls, remote scoring),
   * over every part of this run directory; cache hits cost nothing.
   */
  stageCost: number;
  /** USD spent by the whole run directory, earlier stages in it included (e.g. distill under `demo`). */
  runCost: number;
}

/** The stages whose calls are GRPO's (grpo/sample.ts and grpo/remote-scorer.ts name them). */
const GRPO_STAGES = ['grpo', 'grpo-score'];

function fmtSeconds(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

const mean = (xs: readonly number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
const std = (xs: readonly number[]): number => {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
};

function stepMetrics(step: number, r: StepResult, writeS: number, policyVersion: number): StepMetrics {
  const passRates = r.outcomes.flatMap((o) => o.passRates);
  const components = Object.fromEntries(Object.entries(r.components).map(([k, v]) => [k, mean(v)]));
  const versions = r.outcomes.map((o) => o.policyVersionStart);
  return {
    step,
    groups: r.groups,
    samples: r.samples,
    rows: r.rows.length,
    rewardMean: mean(r.rewards),
    rewardStd: std(r.rewards),
    components,
    passRate: mean(passRates),
    validFormat: r.outcomes.length === 0 ? 0 : r.outcomes.filter((o) => o.status === 'ok' || o.status === 'no-solution').length / r.outcomes.length,
    operatorCallSites: mean(r.outcomes.map((o) => Number((o.metrics as { operatorCallSites?: number } | null)?.operatorCallSites ?? 0))),
    policyTokens: r.outcomes.reduce((s, o) => s + o.turns.reduce((t, x) => t + x.completionIds.length, 0), 0),
    workerTokens: r.outcomes.reduce((s, o) => s + o.totals.workerTokens, 0),
    cost: r.outcomes.reduce((s, o) => s + o.totals.costUsd, 0),
    filteredGroups: r.dropped.all_equal_groups,
    unscorable: r.dropped.unscorable_samples,
    samplingS: r.timings.samplingMs / 1000,
    executionS: r.timings.executionMs / 1000,
    writeS,
    wallS: r.timings.wallMs / 1000,
    staleness: versions.length === 0 ? 0 : policyVersion - Math.min(...versions),
    policyVersion,
    cursorEnd: r.cursorEnd,
  };
}

export async function runGrpo(deps: GrpoDeps): Promise<GrpoSummary> {
  const { cfg, store } = deps;
  const root = cfg.exchange.dir ?? store.path('exchange');
  await mkdir(root, { recursive: true });
  const prompts = await selectPrompts(cfg, deps.partition, deps.dataDir);
  if (prompts.length === 0) throw new PipelineError('config-invalid', 'grpo has no prompts: check grpo.datasets and grpo.partition');

  // run.json once; a resumed run must keep the same group size and advantage settings.
  const existing = await readRunManifest(root);
  if (existing === null) {
    await writeRunManifest(root, {
      schema: 'grpo-exchange/v1',
      run_id: store.id,
      base_model: cfg.baseModel || deps.policyModel,
      ...(await tokenizerIdentity(cfg.tokenizer, cfg.tokenizerRevision)),
      group_size: cfg.groupSize,
      advantage: cfg.advantage,
      created_at: new Date().toISOString(),
    });
  } else if (existing.group_size !== cfg.groupSize) {
    throw new PipelineError('usage', `${root} was started with group size ${existing.group_size}, the config says ${cfg.groupSize}`);
  }
  // The prompt set beside the rollouts (§10.1): what this run samples, and held-out prompts for the trainer's validation.
  const asRl = (q: StepQuery, split: RlSplit): RlQuery => ({
    queryId: q.uid,
    dataset: datasetOfSource(q.dataSource),
    taskId: q.task.id,
    entryPoint: q.task.entryPoint,
    split,
    prompt: metaAgentMessages(q.task.prompt, q.task.entryPoint),
  });
  const validation = await selectValidationPrompts(cfg, deps.partition, deps.dataDir);
  const promptSet = await writePromptSet(root, [...prompts.map((q) => asRl(q, 'train')), ...validation.map((q) => asRl(q, 'validation'))]);
  if ((await readPolicy(root)) === null) await publishPolicy(root, { version: 0, served_model: deps.policyModel, source: 'disk' });
  await removeStaleStepTmpDirs(root);

  let policy = (await readPolicy(root)) as Policy;
  let served: string | undefined;
  const adoptPolicy = async (p: Policy): Promise<void> => {
    policy = p;
    if (cfg.policy.loraHotLoad && p.source === 'lora' && p.path !== undefined && deps.policyBaseUrl !== null) {
      served = await loadLoraAdapter(deps.policyBaseUrl, `policy@${p.version}`, p.path, deps.signal);
    }
  };

  const remote: RemoteScoreDeps = {
    gateway: deps.gateway,
    executor: deps.executor,
    checkReply: deps.checkReply,
    rewards: cfg.rewards,
    workerRole: cfg.workerRole,
    hiddenRuns: cfg.hiddenRuns,
    runLimits: cfg.runLimits,
    resolveTask: createTaskResolver({
      dataDir: deps.dataDir,
      known: prompts,
      versions: new Map(cfg.datasets.flatMap((d) => (d.version !== undefined ? [[d.name, d.version] as const] : []))),
    }),
  };
  const token = cfg.exchange.tokenEnv !== undefined ? process.env[cfg.exchange.tokenEnv] : undefined;
  if (cfg.exchange.tokenEnv !== undefined && (token === undefined || token === '')) {
    throw new PipelineError('env-missing', `grpo.exchange.tokenEnv names ${cfg.exchange.tokenEnv}, which is not set`);
  }
  const server: ExchangeServer = await startExchangeServer({
    root,
    host: cfg.exchange.host,
    port: cfg.exchange.port,
    ...(token !== undefined ? { token } : {}),
    scorer: verlScorer(remote),
    openrlhfScorer: openRlhfScorer(remote),
    onPolicy: async (p) => {
      deps.logger.info({ version: p.version, source: p.source }, 'policy published');
    },
    onError: (e, route) => deps.logger.error({ err: e, route }, 'exchange server error'),
  });
  try {
    // Resume: continue after the last committed step, with the prompt cursor it ended at.
    const committed = await listCommittedSteps(root);
    const first = committed.length === 0 ? 0 : Math.max(...committed) + 1;
    await deps.onExchange?.({ url: server.url, root, firstStep: first, steps: cfg.steps });
    let cursor = 0;
    const metricsFile = store.path('grpo', 'metrics.jsonl');
    if (existsSync(metricsFile)) {
      for await (const m of readJournal<StepMetrics>(metricsFile)) if (m.step < first) cursor = m.cursorEnd;
    }
    const metricsJ = await store.journal<StepMetrics>('grpo/metrics.jsonl');
    const hooks = rewardHooks(cfg.rewards, cfg.advantage);
    const all: StepMetrics[] = [];
    for (let step = first; step < cfg.steps; step++) {
      if (deps.signal.aborted) throw new PipelineError('aborted', 'interrupted');
      // On-policy: the trainer must have published the version trained on every earlier step; async: at most maxStaleness behind.
      const need = cfg.policy.mode === 'on-policy' ? step : step - cfg.policy.maxStaleness;
      if (policy.version < need) {
        // The trainer acks step `need - 1` and publishes version `need`; say which of the two is missing while waiting.
        const waitedStep = need - 1;
        const p = await waitForPolicyVersion(root, need, {
          signal: deps.signal,
          timeoutMs: cfg.policy.waitTimeoutS * 1000,
          onWait: async (w) => {
            const ackedBy = waitedStep >= 0 ? await ackedConsumers(root, waitedStep) : [];
            const message =
              `step ${step} waits for the trainer: policy version ${need} (current ${w.current ?? 'none'}), ` +
              `step ${waitedStep} ${ackedBy.length === 0 ? 'not acked yet' : `acked by ${ackedBy.join(', ')}`}; ` +
              `waited ${fmtSeconds(w.waitedMs)} of ${fmtSeconds(cfg.policy.waitTimeoutS * 1000)} (grpo.policy.waitTimeoutS)`;
            deps.logger.info({ step, needVersion: need, currentVersion: w.current, ackedBy, waitedMs: w.waitedMs, timeoutS: cfg.policy.waitTimeoutS }, 'waiting for the trainer');
            deps.onWaiting?.(message);
          },
        });
        await adoptPolicy(p);
      } else {
        const p = await readPolicy(root);
        if (p !== null && p.version !== policy.version) await adoptPolicy(p);
      }
      const result = await runStep(
        step,
        cursor,
        prompts,
        {
          batchSize: cfg.batchSize,
          groupSize: cfg.groupSize,
          mode: cfg.mode,
          refineRounds: cfg.refineRounds,
          hiddenRuns: cfg.hiddenRuns,
          sampleConcurrency: cfg.sampleConcurrency,
          sampleDeadlineS: cfg.sampleDeadlineS,
          dropAllEqual: cfg.advantage.filter === 'dapo_nonzero_std',
          maxRefills: cfg.maxRefills,
        },
        {
          gateway: deps.gateway,
          executor: deps.executor,
          checkReply: deps.checkReply,
          policyRole: cfg.policyRole,
          workerRole: cfg.workerRole,
          runLimits: cfg.runLimits,
          seed: deps.seed,
          servedModel: () => served,
          policyVersion: () => policy.version,
          signal: deps.signal,
        },
        hooks,
      );
      if (deps.signal.aborted) throw new PipelineError('aborted', 'interrupted');
      const t0 = performance.now();
      await writeStep(
        root,
        step,
        result.rows.map((r) => ({ ...r, run_id: store.id, step })),
        { run_id: store.id, advantage: cfg.advantage, dropped: result.dropped, producer: { name: 'flowreasoner-ts', version: '0.1.0' } },
        { maxRowsPerPart: cfg.exchange.rowsPerPart },
      );
      const m = stepMetrics(step, result, (performance.now() - t0) / 1000, policy.version);
      cursor = result.cursorEnd;
      await metricsJ.append(m);
      all.push(m);
      deps.onStep?.(m);
    }
    await deps.beforeClose?.();
    const final = (await readPolicy(root)) ?? policy;
    return {
      steps: cfg.steps,
      promptSet,
      stepsThisRun: all.length,
      firstStep: first,
      exchangeRoot: root,
      exchangeUrl: server.url,
      meanReward: mean(all.map((m) => m.rewardMean)),
      meanPassRate: mean(all.map((m) => m.passRate)),
      filteredGroups: all.reduce((s, m) => s + m.filteredGroups, 0),
      finalPolicyVersion: final.version,
      stageCost: GRPO_STAGES.reduce((sum, st) => sum + (deps.gateway.accounting.byStage.get(st)?.cost ?? 0), 0),
      runCost: deps.gateway.accounting.total.cost,
    };
  } finally {
    await server.close();
  }
}
