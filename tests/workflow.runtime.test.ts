// Workflows executed for real: control flow in the sandbox, operators served by the host through the gateway (simulator) and the executor.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../pipeline/gateway/gateway.ts';
import { Executor } from '../pipeline/sandbox/executor.ts';
import { startSimServer, type SimServer } from '../pipeline/sim/server.ts';
import { runWorkflow, type WorkflowDefinition } from '../pipeline/workflow/runtime/run-workflow.ts';
import { scoreWorkflow } from '../pipeline/workflow/score-workflow.ts';
import { loadBenchmark } from '../datasets/registry.ts';
import type { Task } from '../datasets/task.ts';
import { endpoint } from './helpers/gateway.ts';
import { sharedDatasets, tmpDir } from './helpers/tmp.ts';

let sim: SimServer;
let executor: Executor;
let task: Task;
let cacheDir: string;

beforeAll(async () => {
  sim = await startSimServer({ port: 0, dataDir: sharedDatasets, worker: { accuracy: 1 }, latency: { fixedMs: 5, jitterMs: 40 } });
  executor = new Executor({ workers: 2 });
  task = (await loadBenchmark('humaneval', { dataDir: sharedDatasets })).find((t) => t.id === 'HumanEval/0') as Task;
  cacheDir = await tmpDir();
});
afterAll(async () => {
  await executor.close();
  await sim.close();
});

function gateway(cache = false): Gateway {
  return new Gateway({ models: { worker: endpoint({ baseUrl: sim.url, model: 'sim-worker', limits: { concurrency: 16 } }) }, ...(cache ? { cacheDir } : {}) });
}

const HEADER = (ops: string[]): string =>
  ['class Workflow:', '    def __init__(self, name: str, llm_config, dataset) -> None:', '        self.llm = create_llm_instance(llm_config)', ...ops.map((o) => `        ${o}`), ''].join('\n');

function wf(ops: string[], body: string[], prompt = 'NOTE = "Write careful code."\n'): WorkflowDefinition {
  return { graph: `${HEADER(ops)}    async def __call__(self, problem: str, entry_point: str):\n${body.map((l) => `        ${l}`).join('\n')}\n`, prompt };
}

describe('operators through the runtime', () => {
  it('runs every operator and returns a solution that passes the hidden tests', async () => {
    const def = wf(
      [
        'self.custom = operator.Custom(self.llm)',
        'self.gen = operator.CustomCodeGenerate(self.llm)',
        'self.ens = operator.ScEnsemble(self.llm)',
        'self.test = operator.Test(self.llm)',
        'self.review = operator.Review(self.llm)',
        'self.revise = operator.Revise(self.llm)',
      ],
      [
        "plan = await self.custom(input=problem, instruction='Outline an approach.')",
        "a = await self.gen(problem=problem, entry_point=entry_point, instruction=prompt_custom.NOTE)",
        "b = await self.gen(problem, entry_point, 'Be concise.')",
        "best = await self.ens(solutions=[a['response'], b['response']], problem=problem)",
        "r = await self.review(problem=problem, solution=best['response'])",
        "sol = best['response']",
        "if not r['review_result']:",
        "    sol = (await self.revise(problem=problem, solution=sol, feedback=r['feedback']))['solution']",
        "t = await self.test(problem=problem, solution=sol, entry_point=entry_point)",
        "assert isinstance(plan['response'], str)",
        "return t['solution'], self.llm.cost_manager.total_cost",
      ],
    );
    const score = await scoreWorkflow(def, task, { gateway: gateway(), executor, runs: 2, tests: 'hidden' });
    for (const r of score.runs) expect(r.run.status, JSON.stringify(r.run.error)).toBe('ok');
    expect(score.score).toBe(1);
    const ops = score.runs[0]!.run.trace.map((t) => t.op);
    expect(ops).toEqual(expect.arrayContaining(['Custom', 'CustomCodeGenerate', 'ScEnsemble', 'Review', 'Test']));
    expect(score.runs[0]!.run.totals.workerCalls).toBeGreaterThanOrEqual(5);
  });

  it('answers 16 concurrent operator calls out of order, each to its own caller', async () => {
    const def = wf(
      ['self.custom = operator.Custom(self.llm)'],
      [
        'import asyncio',
        "outs = await asyncio.gather(*[self.custom(input=f'def f_{i}(x):', instruction='Complete this function.') for i in range(16)])",
        "bad = [i for i, o in enumerate(outs) if f'def f_{i}(' not in o['response']]",
        "assert not bad, bad",
        "return 'def has_close_elements(numbers, threshold):\\n    return any(abs(a - b) < threshold for i, a in enumerate(numbers) for b in numbers[i + 1:])\\n'",
      ],
    );
    const r = await runWorkflow(def, task, { gateway: gateway(), executor });
    expect(r.status, JSON.stringify(r.error)).toBe('ok');
    expect(r.trace).toHaveLength(16);
    // Replies came back in another order than the calls went out.
    const finishOrder = [...r.trace].sort((a, b) => a.startedMs + a.latencyMs - (b.startedMs + b.latencyMs)).map((t) => t.seq);
    expect(finishOrder).not.toEqual([...finishOrder].sort((a, b) => a - b));
  });

  it('follows loops and branches', async () => {
    const def = wf(
      ['self.gen = operator.CustomCodeGenerate(self.llm)', 'self.test = operator.Test(self.llm)'],
      [
        "best = ''",
        'for attempt in range(3):',
        "    d = await self.gen(problem=problem, entry_point=entry_point, instruction=f'Attempt {attempt}.')",
        "    t = await self.test(problem=problem, solution=d['response'], entry_point=entry_point)",
        "    if t['result']:",
        "        best = t['solution']",
        '        break',
        '    else:',
        "        best = best or t['solution']",
        'return best',
      ],
    );
    const r = await runWorkflow(def, task, { gateway: gateway(), executor });
    expect(r.status).toBe('ok');
    expect(r.trace.map((t) => t.op)).toEqual(['CustomCodeGenerate', 'Test']);
  });
});

describe('failures are typed and contained', () => {
  it.each([
    ['raising', ['raise ValueError("boom")'], 'workflow-raised', /ValueError: boom/],
    ['returning None', ['return None'], 'no-solution', /None/],
    ['returning a number', ['return 42, 0.0'], 'bad-solution-type', /int/],
    ['an unknown operator argument', ["self.x = operator.Custom(self.llm)", "await self.x(input='a', instruction='b', temperature=2)", "return 'x'"], 'workflow-raised', /unexpected arguments: temperature/],
  ] as const)('%s', async (_name, body, status, message) => {
    const r = await runWorkflow(wf([], [...body]), task, { gateway: gateway(), executor });
    expect(r.status).toBe(status);
    expect(`${r.error?.message} ${r.error?.traceback ?? ''}`).toMatch(message);
  });

  it('keeps the traceback of a graph that fails to load', async () => {
    const r = await runWorkflow({ graph: 'class Workflow:\n    def __init__(self, name, llm_config, dataset):\n        raise RuntimeError("bad init")\n', prompt: '' }, task, { gateway: gateway(), executor });
    expect(r.status).toBe('load-failed');
    expect(r.error?.traceback).toContain('bad init');
  });

  it('stops an infinite loop at the wall-clock limit', async () => {
    const r = await runWorkflow(wf([], ['while True:', '    pass']), task, { gateway: gateway(), executor, limits: { wallClockS: 1 } });
    expect(r.status).toBe('timeout');
  });

  it('contains a socket and a file read', async () => {
    const sock = await runWorkflow(wf([], ['import socket', 's = socket.create_connection(("1.1.1.1", 80), timeout=1)', "return 'x'"]), task, { gateway: gateway(), executor });
    expect(sock.status).toBe('workflow-raised');
    expect(sock.error?.message).toMatch(/unreachable|OSError|Errno/);
    const file = await runWorkflow(wf([], ['return open("/work/main/package.json").read()']), task, { gateway: gateway(), executor });
    expect(file.status).toBe('workflow-raised');
    expect(file.error?.message).toMatch(/No such file|Permission/);
  });

  it('ends a run that makes too many operator calls', async () => {
    const r = await runWorkflow(wf(['self.c = operator.Custom(self.llm)'], ['while True:', "    await self.c(input='x', instruction='y')"]), task, { gateway: gateway(), executor, limits: { maxOperatorCalls: 5 } });
    expect(r.status).toBe('limit-operator-calls');
    expect(r.trace.length).toBe(5); // the sixth call is refused before it starts
  });
});

describe('gateway integration', () => {
  it('sends every worker call through the gateway: a rerun is answered from the cache', async () => {
    const def = wf(['self.gen = operator.CustomCodeGenerate(self.llm)'], ["d = await self.gen(problem=problem, entry_point=entry_point, instruction='')", "return d['response']"]);
    const first = await runWorkflow(def, task, { gateway: gateway(true), executor, runKey: 'cache-check' });
    const again = await runWorkflow(def, task, { gateway: gateway(true), executor, runKey: 'cache-check' });
    expect(first.totals.cacheHits).toBe(0);
    expect(again.totals.cacheHits).toBe(again.totals.workerCalls);
    expect(again.solution).toBe(first.solution);
    const other = await runWorkflow(def, task, { gateway: gateway(true), executor, runKey: 'another-run' });
    expect(other.totals.cacheHits).toBe(0);
  });
});
