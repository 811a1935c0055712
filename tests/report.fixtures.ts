// Small run directories built in code for the report tests: each stage's files, optionally full of hostile strings.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { EvalResults } from '../eval/results-schema.ts';
import type { FlowNode } from '../pipeline/workflow/render-mermaid.ts';

/** Text a model could write that would run script if the report inserted it unescaped. */
export const HOSTILE = `</script><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'"&<!--`;

const jsonl = (rows: readonly unknown[]): string => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

async function put(dir: string, file: string, text: string): Promise<void> {
  await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
  await writeFile(path.join(dir, file), text);
}

export async function writeRunJson(dir: string, opts: { hostile?: boolean } = {}): Promise<void> {
  const h = opts.hostile === true ? HOSTILE : '';
  await put(
    dir,
    'run.json',
    JSON.stringify({
      id: `fixture${h}`,
      command: `demo${h}`,
      status: 'completed',
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:05:00.000Z',
      resumes: [],
      host: 'test',
      nodeVersion: 'v20.0.0',
      source: { files: [{ path: `configs/demo.yaml${h}`, text: 'run: {}' }], overrides: [`run.name=x${h}`] },
      summary: { steps: 2, note: `s${h}`, exchangeUrl: 'http://127.0.0.1:1' },
      extraField: 'ignored',
    }),
  );
  await put(dir, 'config.yaml', `run:\n  name: fixture\n  seed: 1\n`);
}

const GRAPH = `class Workflow:\n    async def __call__(self, problem, entry_point):\n        return (await self.custom_code_generate(problem=problem, entry_point=entry_point, instruction=""))['response'], 0\n`;

export async function writeDistill(dir: string, opts: { hostile?: boolean } = {}): Promise<void> {
  const h = opts.hostile === true ? HOSTILE : '';
  const attempt = (outcome: string) => ({ attempt: 0, messages: [], reasoning: null, reply: `r${h}`, outcome, failures: [], promptTokens: 1, completionTokens: 1, cost: 0 });
  const round = (queryId: string, n: number, score: number | null, outcomes: string[]) => ({
    kind: 'round',
    queryId,
    round: n,
    parent: n === 1 ? null : 1,
    valid: score !== null,
    invalidReason: score === null ? 'malformed' : null,
    attempts: outcomes.map(attempt),
    modification: `change ${n}${h}`,
    // Rounds of the same index share a workflow, so two leaders share one (drawn once).
    graph: `${GRAPH}# round ${n} ${h}\n`,
    prompt: `X = "${h.replace(/"/g, "'")}"\n`,
    codeHash: 'h',
    metrics: null,
    runs: [],
    score,
    feedback: [h],
    promptTokens: 1,
    completionTokens: 1,
    cost: 0.001,
    timing: { latencyMs: 1, finishedAt: '2026-01-01T00:00:00.000Z', cacheHits: 0 },
  });
  const q = [`humaneval:HumanEval/0${h}`, 'mbpp:Mbpp/2', 'mbpp:Mbpp/3'];
  const rounds = [
    round(q[0]!, 1, 0.5, []),
    round(q[0]!, 2, 1, ['malformed', 'accepted']),
    round(q[1]!, 1, 0, []),
    round(q[1]!, 2, 0.5, ['accepted']),
    round(q[1]!, 3, null, ['malformed', 'repeated', 'call-failed']),
    round(q[2]!, 1, 1, []),
  ];
  const trace = (queryId: string, rs: typeof rounds, best: number, hidden: number) => ({
    kind: 'trace',
    queryId,
    dataset: 'humaneval',
    taskId: queryId,
    query: `def f():${h}`,
    entryPoint: 'f',
    rounds: rs,
    bestRound: best,
    seedScore: rs[0]?.score ?? 0,
    bestScore: rs.find((r) => r.round === best)?.score ?? 0,
    hiddenScore: hidden,
    hiddenRuns: [],
    stopReason: 'converged',
    promptTokens: 1,
    completionTokens: 1,
    cost: 0.002,
    costByRole: { teacher: 0.001 },
    timing: { latencyMs: 1, finishedAt: '2026-01-01T00:00:00.000Z' },
  });
  await put(dir, 'distill/rounds.jsonl', jsonl(rounds));
  await put(
    dir,
    'distill/traces.jsonl',
    jsonl([trace(q[0]!, rounds.slice(0, 2), 2, 1), trace(q[1]!, rounds.slice(2, 5), 2, 0.5), trace(q[2]!, rounds.slice(5), 1, 1)]),
  );
  await put(
    dir,
    'distill/summary.json',
    JSON.stringify({ queries: 3, queriesDone: 3, queriesSkipped: 0, rounds: 6, generatedRounds: 3, validRounds: 2, validReplyRate: 0.66, meanSeedScore: 0.5, meanBestScore: 0.83, meanHiddenScore: 0.83, teacherAttempts: { accepted: 2, malformed: 2 }, runStatuses: { ok: 4 }, stopReasons: { converged: 3 }, costByRole: { teacher: 0.01, [`w${h}`]: 0.02 }, failures: {}, stoppedBy: null }),
  );
  await put(
    dir,
    'calls.jsonl',
    jsonl([
      { ts: 't', role: 'teacher', model: 'm', stage: 'distill', cost: 0.01, ok: true, cacheHit: false },
      { ts: 't', role: `worker${h}`, model: 'm', stage: 'distill', cost: 0.02, ok: true, cacheHit: false },
      { ts: 't', role: 'policy', model: 'm', stage: 'grpo', cost: 0, ok: true, cacheHit: false },
    ]),
  );
}

export async function writeSft(dir: string, opts: { hostile?: boolean } = {}): Promise<void> {
  const h = opts.hostile === true ? HOSTILE : '';
  await put(
    dir,
    'sft/stats.json',
    JSON.stringify({
      schema: 'flowreasoner-sft-stats/v1',
      config: { charsPerToken: 2 },
      tokenCounter: 'estimate: ceil(chars / 2)',
      traces: 3,
      queries: { kept: 2, dropped: { [`best-is-seed${h}`]: 1 } },
      rounds: { total: 6, invalid: 1, onKeptPaths: 3, offPath: 1 },
      singleTurn: { train: 2, validation: 0, droppedTooLong: 0 },
      multiTurn: { train: 1, validation: 0, droppedTooLong: 0 },
      rl: { train: 3, validation: 0 },
      warnings: [`the validation split is empty${h}`],
    }),
  );
  // Tokens with 2 chars per token, each text rounded up on its own: 3 + 2 = 5, and 1 + 1 + 2 = 4.
  await put(
    dir,
    'sft/train.messages.jsonl',
    jsonl([
      { id: 'a', messages: [{ role: 'user', content: 'abcde' }, { role: 'assistant', content: 'abcd' }] },
      { id: 'b', messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b', reasoning_content: 'cde' }] },
    ]),
  );
  await put(dir, 'sft/train.multiturn.messages.jsonl', jsonl([{ id: 'a', messages: [{ role: 'user', content: h || 'x' }] }]));
}

export async function writeGrpo(dir: string): Promise<void> {
  const step = (n: number) => ({
    step: n,
    groups: 3,
    samples: 12,
    rewardMean: 0.4 + 0.1 * n,
    rewardStd: 0.3,
    components: { performance: 0.5, complexity: -0.05, efficiency: 0, diversity: 0.1, format: -0.1 * n },
    passRate: 0.6 + 0.1 * n,
    validFormat: 1,
    operatorCallSites: 2 + n,
    policyTokens: 1000 * (n + 1),
    workerTokens: 3000,
    cost: 0.01,
    filteredGroups: n,
    unscorable: 0,
    samplingS: 2,
    executionS: 5,
    writeS: 0.1,
    wallS: 4,
    staleness: n % 2,
    policyVersion: n,
  });
  await put(dir, 'grpo/metrics.jsonl', jsonl([step(0), step(1), step(2)]));
  await put(dir, 'grpo/summary.json', JSON.stringify({ steps: 3, meanReward: 0.5, filteredGroups: 3 }));
}

/** eval/results.json in the format of eval/results-schema.ts (flowreasoner-eval/v1), two datasets, three methods. */
export function evalResults(opts: { hostile?: boolean } = {}): EvalResults {
  const h = opts.hostile === true ? HOSTILE : '';
  const methods = ['direct', `aflow-best${h}`, 'meta-agent'];
  const datasets: EvalResults['datasets'] = [
    { name: 'humaneval', label: 'HumanEval', tasks: 20, excluded: 0, excludedReasons: {} },
    { name: 'mbpp', label: `MBPP${h}`, tasks: 30, excluded: 2, excludedReasons: { 'missing-dependency': 2 } },
  ];
  const p = (m: number, d: number): number => Math.min(1, 0.4 + 0.15 * m + 0.05 * d);
  const cells = methods.flatMap((method, m) =>
    [...datasets.map((d) => d.name), 'overall'].map((dataset, d) => ({
      method,
      dataset,
      tasks: dataset === 'overall' ? 50 : (datasets[d]?.tasks ?? 0),
      samples: dataset === 'overall' ? 50 : (datasets[d]?.tasks ?? 0),
      passAt1: p(m, d),
      interval: { low: p(m, d) - 0.12, high: Math.min(1, p(m, d) + 0.1) },
      intervalMethod: 'wilson' as const,
      passAtK: { '1': p(m, d) },
    })),
  );
  return {
    schema: 'flowreasoner-eval/v1',
    createdAt: '2026-01-01T00:00:00.000Z',
    partition: { which: 'test', seed: 0, fractions: { train: 0.7, validation: 0.1, test: 0.2 } },
    samplesPerTask: 1,
    alpha: 0.05,
    confidence: 0.95,
    datasets,
    methods: methods.map((method, i): EvalResults['methods'][number] => ({
      method,
      kind: i === 0 ? 'direct' : i === 1 ? 'workflow' : 'meta-agent',
      source: i === 1 ? `workflows/aflow.py${h}` : 'sim',
      samples: 50,
      cost: 0.1 * (i + 1),
      promptTokens: 1000 * (i + 1),
      completionTokens: 500 * (i + 1),
      operatorCalls: i * 40,
      workerCalls: 50 + i * 40,
      meanRounds: i === 2 ? 2.4 : null,
      failures: i === 2 ? { 'no-valid-workflow': 1 } : {},
    })),
    bestBaseline: methods[1] ?? null,
    cells,
    comparisons: [
      { method: 'meta-agent', against: 'direct', role: 'vs-direct', dataset: 'overall', tasks: 50, onlyMethod: 9, onlyAgainst: 2, difference: 0.14, interval: { low: 0.02, high: 0.26 }, pValue: 0.0654, test: 'mcnemar-exact', significant: false },
      { method: 'meta-agent', against: methods[1] ?? '', role: 'vs-best-baseline', dataset: 'humaneval', tasks: 20, onlyMethod: 5, onlyAgainst: 0, difference: 0.25, interval: null, pValue: 0.0003, test: 'mcnemar-exact', significant: true },
    ],
    incomplete: { missingSamples: 0, tasksDropped: 0 },
  };
}

export async function writeEval(dir: string, opts: { hostile?: boolean } = {}): Promise<void> {
  await put(dir, 'eval/results.json', JSON.stringify(evalResults(opts), null, 2));
}

/** A flow with every shape the Mermaid renderer draws (loop, branch, gather, helper call, raise), labels included. */
export function richFlow(label = 'x'): FlowNode[] {
  const op = (operator: string, line: number, text = `self.${operator.toLowerCase()}`): FlowNode => ({ kind: 'op', label: text, line, operator, arms: [] });
  return [
    op('CustomCodeGenerate', 3, `self.gen ${label}`),
    {
      kind: 'loop',
      label: `for i in range(3) ${label}`,
      line: 4,
      operator: null,
      arms: [
        {
          label: 'body',
          body: [
            op('Test', 5),
            { kind: 'branch', label: `if ok ${label}`, line: 6, operator: null, arms: [{ label: 'yes', body: [{ kind: 'break', label: '', line: 7, operator: null, arms: [] }] }, { label: 'no', body: [op('Revise', 8)] }] },
          ],
        },
      ],
    },
    { kind: 'gather', label: 'asyncio.gather', line: 9, operator: null, arms: [{ label: 'a', body: [op('Custom', 9)] }, { label: 'b', body: [op('Review', 9)] }] },
    { kind: 'branch', label: 'if bad', line: 10, operator: null, arms: [{ label: 'yes', body: [{ kind: 'raise', label: 'ValueError()', line: 11, operator: null, arms: [] }] }, { label: 'no', body: [] }] },
    op('ScEnsemble', 12),
    { kind: 'return', label: 'solution', line: 13, operator: null, arms: [] },
  ];
}
