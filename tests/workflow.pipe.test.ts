// The host's end of the operator pipe under attack: any bytes a sandboxed workflow writes become a typed failure of that run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../pipeline/gateway/gateway.ts';
import { Executor } from '../pipeline/sandbox/executor.ts';
import { startSimServer, type SimServer } from '../pipeline/sim/server.ts';
import { LineSplitter, MAX_PROTOCOL_LINE_BYTES } from '../pipeline/workflow/runtime/line-splitter.ts';
import { runWorkflow, type WorkflowDefinition } from '../pipeline/workflow/runtime/run-workflow.ts';
import { cutForTrace, parseRuntimeLine } from '../pipeline/workflow/runtime/runtime-protocol.ts';
import { loadBenchmark } from '../datasets/registry.ts';
import type { Task } from '../datasets/task.ts';
import { endpoint } from './helpers/gateway.ts';
import { sharedDatasets } from './helpers/tmp.ts';

/** Collects what a splitter reports. */
function splitterUnder(max: number): { s: LineSplitter; lines: string[]; overflows: number[] } {
  const lines: string[] = [];
  const overflows: number[] = [];
  const s = new LineSplitter(max, (l) => lines.push(l), (n) => overflows.push(n));
  return { s, lines, overflows };
}

describe('LineSplitter', () => {
  it('gives complete lines whatever the chunk boundaries, multi-byte characters included', () => {
    const text = Buffer.from('{"a":"é€😀"}\nsecond\n\nthird', 'utf8');
    for (let size = 1; size <= text.length; size++) {
      const { s, lines, overflows } = splitterUnder(100);
      for (let i = 0; i < text.length; i += size) s.push(text.subarray(i, i + size));
      expect(lines, `chunks of ${size}`).toEqual(['{"a":"é€😀"}', 'second', '']);
      expect(overflows).toEqual([]);
      expect(s.buffered).toBe(Buffer.byteLength('third'));
    }
  });

  it('accepts a line of exactly the cap and reports one byte more, once, then drops everything', () => {
    const ok = splitterUnder(8);
    ok.s.push(Buffer.from('12345678\n'));
    expect(ok.lines).toEqual(['12345678']);
    const over = splitterUnder(8);
    over.s.push(Buffer.from('1234'));
    over.s.push(Buffer.from('56789'));
    over.s.push(Buffer.from('\nlater\n'));
    expect(over.overflows).toEqual([9]);
    expect(over.lines).toEqual([]);
    expect(over.s.active).toBe(false);
    expect(over.s.buffered).toBe(0);
  });

  it('never holds more than the cap of a line that does not end', () => {
    const { s, overflows } = splitterUnder(MAX_PROTOCOL_LINE_BYTES);
    const chunk = Buffer.alloc(1 << 20, 0x41);
    let most = 0;
    for (let i = 0; i < 64; i++) {
      s.push(chunk);
      most = Math.max(most, s.buffered);
    }
    expect(MAX_PROTOCOL_LINE_BYTES).toBe(8 * 1024 * 1024);
    expect(most).toBeLessThanOrEqual(MAX_PROTOCOL_LINE_BYTES);
    expect(overflows).toEqual([MAX_PROTOCOL_LINE_BYTES + (1 << 20)]);
  });

  it('stops mid-chunk when a line handler stops it', () => {
    const lines: string[] = [];
    const s: LineSplitter = new LineSplitter(
      100,
      (l) => {
        lines.push(l);
        s.stop();
      },
      () => undefined,
    );
    s.push(Buffer.from('a\nb\nc\n'));
    expect(lines).toEqual(['a']);
  });
});

describe('parseRuntimeLine', () => {
  it.each([
    ['null', /null where a message object belongs/],
    ['42', /a number where/],
    ['[]', /an array where/],
    ['"x"', /a string where/],
    ['true', /a boolean where/],
    ['{"type": "call"', /not JSON/],
    ['\u0000\u00ff garbage', /not JSON/],
    ['{}', /does not know/],
    ['{"type": "launch"}', /does not know/],
    ['{"type": "call", "id": "1", "op": "Custom", "args": {}}', /id/],
    ['{"type": "call", "id": 1, "op": "Custom", "args": null}', /args/],
    ['{"type": "done", "solution": 42}', /solution/],
    ['{"type": "error", "kind": "workflow-raised"}', /message/],
  ])('rejects %s', (line, why) => {
    const r = parseRuntimeLine(line);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(why);
  });

  it('accepts the three message types', () => {
    expect(parseRuntimeLine('{"type": "call", "id": 3, "op": "Custom", "args": {"input": "a"}}')).toEqual({
      ok: true,
      message: { type: 'call', id: 3, op: 'Custom', args: { input: 'a' } },
    });
    expect(parseRuntimeLine('{"type": "done", "solution": "def f(): pass"}')).toMatchObject({ ok: true, message: { type: 'done' } });
    expect(parseRuntimeLine('{"type": "error", "kind": "no-solution", "message": "None", "traceback": ""}')).toMatchObject({ ok: true });
  });

  it('keeps an error message short for a huge line', () => {
    const r = parseRuntimeLine(`[${'1,'.repeat(1_000_000)}1]`);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.length).toBeLessThan(400);
  });

  it('cuts a value nested a million deep so the trace stays serialisable', () => {
    const deep = JSON.parse(`${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`) as unknown;
    const cut = cutForTrace({ input: deep });
    expect(JSON.stringify(cut)).toContain('nested too deep');
  });
});

describe('a workflow that writes to the operator pipe itself', () => {
  let sim: SimServer;
  let executor: Executor;
  let task: Task;
  let gateway: Gateway;

  beforeAll(async () => {
    sim = await startSimServer({ port: 0, dataDir: sharedDatasets, worker: { accuracy: 1 }, latency: { fixedMs: 1, jitterMs: 0 } });
    executor = new Executor({ workers: 1 });
    task = (await loadBenchmark('humaneval', { dataDir: sharedDatasets })).find((t) => t.id === 'HumanEval/0') as Task;
    gateway = new Gateway({ models: { worker: endpoint({ baseUrl: sim.url, model: 'sim-worker', limits: { concurrency: 4 } }) } });
  });
  afterAll(async () => {
    await executor.close();
    await sim.close();
  });

  /**
   * The runtime writes protocol lines to fd 4 (OUT_FD in fr_workflow_runtime.py); the graph writes there directly,
   * then sleeps: a host that waited for the workflow instead of ending it would take the whole sleep.
   */
  function attack(python: string[]): WorkflowDefinition {
    const body = ['import asyncio', 'import os', ...python, 'await asyncio.sleep(60)', "return 'unreachable'"];
    return {
      graph: [
        'class Workflow:',
        '    def __init__(self, name, llm_config, dataset):',
        '        self.llm = create_llm_instance(llm_config)',
        '        self.custom = operator.Custom(self.llm)',
        '    async def __call__(self, problem, entry_point):',
        ...body.map((l) => `        ${l}`),
        '',
      ].join('\n'),
      prompt: '',
    };
  }

  const healthy: WorkflowDefinition = {
    graph: [
      'class Workflow:',
      '    def __init__(self, name, llm_config, dataset):',
      '        self.llm = create_llm_instance(llm_config)',
      '        self.custom = operator.Custom(self.llm)',
      '    async def __call__(self, problem, entry_point):',
      "        r = await self.custom(input='def f_1(x):', instruction='Complete this function.')",
      "        return r['response']",
      '',
    ].join('\n'),
    prompt: '',
  };

  async function expectHealthyRunAfter(): Promise<void> {
    const next = await runWorkflow(healthy, task, { gateway, executor, limits: { wallClockS: 60 } });
    expect(next.status, JSON.stringify(next.error)).toBe('ok');
    expect(next.solution).toContain('def f_1(');
  }

  it.each([
    ['JSON null', ["os.write(4, b'null\\n')"], /null where a message object belongs/],
    ['a JSON number', ["os.write(4, b'42\\n')"], /a number where/],
    ['a JSON array', ["os.write(4, b'[]\\n')"], /an array where/],
    ['a JSON string', ["os.write(4, b'\"x\"\\n')"], /a string where/],
    ['garbage bytes', ["os.write(4, b'\\x00\\xff{garbage\\n')"], /not JSON/],
    ['an unknown message type', ["os.write(4, b'{\"type\": \"exec\", \"code\": \"rm -rf /\"}\\n')"], /does not know/],
    ['a line over the cap', ['os.write(4, b"x" * (9 << 20) + b"\\n")'], /longer than 8388608 bytes/],
    ['a line that never ends', ['chunk = b"y" * (1 << 20)', 'while True:', '    os.write(4, chunk)'], /longer than 8388608 bytes/],
  ] as const)('%s: a protocol-error of that run, the runtime ended, the next run fine', async (_name, python, message) => {
    const t0 = performance.now();
    const r = await runWorkflow(attack([...python]), task, { gateway, executor, limits: { wallClockS: 120 } });
    expect(r.status).toBe('protocol-error');
    expect(r.error?.message).toMatch(message);
    expect(r.solution).toBe('');
    expect(performance.now() - t0).toBeLessThan(30_000); // well before the workflow's 60 s sleep or the wall clock
    await expectHealthyRunAfter();
  });

  it('serves a forged call whose arguments nest a million deep as a failed operator call, and the trace serialises', async () => {
    const forged = [
      "deep = '[' * 1000000 + ']' * 1000000",
      'line = \'{"type": "call", "id": 999999, "op": "Custom", "args": {"input": %s, "instruction": "x"}}\\n\' % deep',
      'os.write(4, line.encode())',
    ];
    const def = attack(forged);
    def.graph = def.graph.replace('await asyncio.sleep(60)', 'await asyncio.sleep(1)').replace("return 'unreachable'", "return 'def f(): pass'");
    const r = await runWorkflow(def, task, { gateway, executor, limits: { wallClockS: 60 } });
    expect(r.status, JSON.stringify(r.error)).toBe('ok');
    expect(r.trace).toHaveLength(1);
    expect(r.trace[0]?.ok).toBe(false);
    expect(JSON.stringify(r.trace)).toContain('nested too deep');
  });

  it('turns oversized operator arguments and an oversized solution into ordinary workflow failures, not protocol errors', async () => {
    const big: WorkflowDefinition = {
      graph: healthy.graph.replace(
        "        r = await self.custom(input='def f_1(x):', instruction='Complete this function.')\n        return r['response']",
        [
          '        try:',
          "            await self.custom(input='x' * (9 << 20), instruction='y')",
          '        except Exception as e:',
          '            return str(e)',
        ].join('\n'),
      ),
      prompt: '',
    };
    const r = await runWorkflow(big, task, { gateway, executor, limits: { wallClockS: 60 } });
    expect(r.status, JSON.stringify(r.error)).toBe('ok');
    expect(r.solution).toMatch(/Custom: arguments too large/);
    expect(r.trace).toHaveLength(0);

    const huge = { graph: healthy.graph.replace("return r['response']", "return 'y' * (9 << 20)"), prompt: '' };
    const h = await runWorkflow(huge, task, { gateway, executor, limits: { wallClockS: 60 } });
    expect(h.status).toBe('bad-solution-type');
    expect(h.error?.message).toMatch(/too large/);
    await expectHealthyRunAfter();
  });
});
