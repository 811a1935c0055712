// `npm run bench:grpo`: one GRPO step against simulated policy and worker servers of fixed latency and concurrency;
// prints the step's wall time over the ideal bound (the larger of the sampling-bound and execution-bound times).
import { availableParallelism } from 'node:os';
import { EndpointSchema } from '../../pipeline/config/endpoint-schema.ts';
import { Gateway } from '../../pipeline/gateway/gateway.ts';
import { Executor } from '../../pipeline/sandbox/executor.ts';
import { startSimServer } from '../../pipeline/sim/server.ts';
import { checkMetaAgentReply } from '../../pipeline/workflow/check-reply.ts';
import { closeSharedAnalysisClient } from '../../pipeline/code-analysis/client.ts';
import { loadBenchmark } from '../../datasets/registry.ts';
import { resolveDataDir } from '../../datasets/data-files.ts';
import { RewardSchema } from '../../rewards/config-schema.ts';
import { AdvantageSettingsSchema } from '../../grpo/advantage-config.ts';
import { rewardHooks } from '../../grpo/reward-hooks.ts';
import { runStep } from '../../grpo/run-step.ts';

const B = Number(process.env.BENCH_B ?? 4);
const G = Number(process.env.BENCH_G ?? 8);
// A policy reply of a few thousand reasoning tokens takes several seconds (6 s ≈ 1,500 tokens at 250 tokens/s).
const policyLatencyMs = Number(process.env.BENCH_POLICY_MS ?? 6000);
const workerLatencyMs = Number(process.env.BENCH_WORKER_MS ?? 50);
const policyConcurrency = Number(process.env.BENCH_POLICY_CONCURRENCY ?? 8);

const policySim = await startSimServer({ port: 0, latency: { fixedMs: policyLatencyMs }, maxConcurrency: policyConcurrency, seed: 3 });
const workerSim = await startSimServer({ port: 0, latency: { fixedMs: workerLatencyMs }, dataDir: resolveDataDir(undefined), worker: { accuracy: 0.7 } });
const gateway = new Gateway({
  models: {
    policy: EndpointSchema.parse({ baseUrl: policySim.url, model: 'sim-policy', capture: { tokenIds: true, logprobs: true }, limits: { concurrency: policyConcurrency } }),
    worker: EndpointSchema.parse({ baseUrl: workerSim.url, model: 'sim-worker', limits: { concurrency: 64 } }),
  },
});
const executor = new Executor({});
await executor.warmup();
const tasks = (await loadBenchmark('humaneval', { dataDir: resolveDataDir(undefined) })).slice(0, 40);
const queries = tasks.map((t) => ({ uid: `humaneval:${t.id}`, dataSource: 'humaneval', task: t }));
const controller = new AbortController();
const settings = { batchSize: B, groupSize: G, mode: 'single' as const, refineRounds: 1, hiddenRuns: 1, sampleConcurrency: B * G, sampleDeadlineS: 600, dropAllEqual: false, maxRefills: 0 };
const hooks = rewardHooks(RewardSchema.parse({}), AdvantageSettingsSchema.parse({}));
const deps = (gw: Gateway) => ({
  gateway: gw,
  executor,
  checkReply: checkMetaAgentReply,
  policyRole: 'policy',
  workerRole: 'worker',
  runLimits: {},
  seed: 1,
  servedModel: () => undefined,
  policyVersion: () => 0,
  signal: controller.signal,
});
const r = await runStep(0, 0, queries, settings, deps(gateway), hooks);
// Execution-bound, measured: the same step again with an instant policy (same seed, so the same workflows), so only
// the executions take time; one policy latency must still precede them.
const instantPolicy = await startSimServer({ port: 0, latency: { fixedMs: 0 }, seed: 3 });
const execOnlyGateway = new Gateway({
  models: {
    policy: EndpointSchema.parse({ baseUrl: instantPolicy.url, model: 'sim-policy', capture: { tokenIds: true, logprobs: true }, limits: { concurrency: 64 } }),
    worker: EndpointSchema.parse({ baseUrl: workerSim.url, model: 'sim-worker', limits: { concurrency: 64 } }),
  },
});
const execOnly = await runStep(0, 0, queries, settings, deps(execOnlyGateway), hooks);
await instantPolicy.close();
const n = r.outcomes.length;
const samplingPerSample = r.outcomes.map((o) => o.timings.samplingMs);
const execPerSample = r.outcomes.map((o) => o.timings.executionMs);
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
// Sampling-bound: the policy serves `policyConcurrency` requests at a time, each taking its fixed latency.
const samplingBound = Math.ceil(n / policyConcurrency) * policyLatencyMs;
const executionBound = policyLatencyMs + execOnly.timings.wallMs;
const ideal = Math.max(samplingBound, executionBound);
process.stdout.write(
  [
    `samples: ${n} (B=${B}, G=${G}), rows: ${r.rows.length}, reward mean ${mean(r.rewards).toFixed(3)}`,
    `policy: ${policyLatencyMs} ms fixed latency, concurrency ${policyConcurrency}; worker: ${workerLatencyMs} ms; ${availableParallelism()} cores`,
    `mean sampling ${mean(samplingPerSample).toFixed(0)} ms/sample (queueing included), mean execution ${mean(execPerSample).toFixed(0)} ms/sample`,
    `sampling-bound ${(samplingBound / 1000).toFixed(2)} s, execution-bound ${(executionBound / 1000).toFixed(2)} s (executions alone: ${(execOnly.timings.wallMs / 1000).toFixed(2)} s), step wall ${(r.timings.wallMs / 1000).toFixed(2)} s`,
    `overhead ratio: ${(r.timings.wallMs / ideal).toFixed(2)}`,
  ].join('\n') + '\n',
);
await executor.close();
await policySim.close();
await workerSim.close();
await closeSharedAnalysisClient();
