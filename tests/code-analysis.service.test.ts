// The code analysis service process: answers matched by id when they come back out of order, hostile input, crash and timeout recovery.
import { afterEach, describe, expect, it } from 'vitest';
import { isPipelineError, PipelineError } from '../pipeline/errors.ts';
import { AnalysisClient } from '../pipeline/code-analysis/client.ts';
import { checkWorkflow, FLOWREASONER_OPERATORS } from '../pipeline/workflow/check.ts';

const clients: AnalysisClient[] = [];
function newClient(...args: ConstructorParameters<typeof AnalysisClient>): AnalysisClient {
  const c = new AnalysisClient(...args);
  clients.push(c);
  return c;
}
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
});

const sleep = (c: AnalysisClient, ms: number, timeoutMs?: number): Promise<unknown> => c.request('sleep', { ms }, timeoutMs === undefined ? {} : { timeoutMs });

function waitForExit(pid: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setInterval(() => {
      try {
        process.kill(pid, 0);
      } catch {
        clearInterval(t);
        resolve();
      }
    }, 10);
  });
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return isPipelineError(e) ? e.code : String(e);
  }
}

describe('code analysis service', () => {
  it('matches concurrent answers to their requests when they come back out of order', async () => {
    const c = newClient();
    await c.ping();
    const order: string[] = [];
    const slow = sleep(c, 400).then(() => order.push('slow'));
    const graphs = Array.from({ length: 12 }, (_, i) =>
      ['class Workflow:', '    async def __call__(self, problem, entry_point):', ...Array.from({ length: i }, (_, k) => `        x${k} = operator.Op${i}x${k}`), '        return problem'].join('\n'),
    );
    const fast = Promise.all(graphs.map((g) => c.analyzeWorkflow(g, ''))).then((rs) => {
      order.push('fast');
      return rs;
    });
    const results = await fast;
    await slow;
    expect(order).toEqual(['fast', 'slow']);
    results.forEach((r, i) => {
      expect(r.graph.operatorRefs.map((o) => o.name)).toEqual(Array.from({ length: i }, (_, k) => `Op${i}x${k}`));
    });
  });

  it('answers a hostile, deeply nested graph with a typed syntax error and keeps serving', async () => {
    const c = newClient();
    const pid = (await c.ping()).pid;
    const chained = `x = ${Array.from({ length: 100_000 }, () => 'a').join(' + ')}`;
    const unary = `x = ${'-'.repeat(100_000)}1`;
    const parens = `x = ${'('.repeat(5000)}1${')'.repeat(5000)}`;
    for (const graph of [chained, unary, parens]) {
      const check = await checkWorkflow({ graph, prompt: '' }, { knownOperators: FLOWREASONER_OPERATORS, client: c });
      expect(check.ok).toBe(false);
      expect(check.failures[0]?.code).toBe('syntax-error');
      expect(check.failures[0]?.where).toBe('graph');
    }
    expect((await c.ping()).pid).toBe(pid);
    expect(c.restarts).toBe(0);
  });

  it('reports modules reached through allowed modules only for modules the host allows, and stays linear on hostile text', async () => {
    const c = newClient();
    const graph = ['import json', 'import antigravity', 'a = json.decoder', 'b = antigravity.webbrowser', 'from json import scanner'].join('\n');
    // Without the allow-list nothing is introspected; with it only `json` is (antigravity is never imported).
    expect((await c.analyzeWorkflow(graph, '')).graph.moduleAttributes).toEqual([]);
    const found = (await c.analyzeWorkflow(graph, '', { allowedModules: ['json'] })).graph.moduleAttributes;
    expect(found.map((m) => [m.module, m.name, m.line])).toEqual([
      ['json', 'decoder', 3],
      ['json', 'scanner', 5],
    ]);
    // Nested format specs a hundred thousand deep, and a long attribute chain: answered fast, not by the timeout.
    const hostile = [`s = "${'{0:'.repeat(100_000)}${'}'.repeat(100_000)}"`, `t = json${'.decoder'.repeat(2000)}`, 'import json'].join('\n');
    const t0 = performance.now();
    const r = await c.analyzeWorkflow(hostile, '', { allowedModules: ['json'], timeoutMs: 10_000 });
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(r.graph.moduleAttributes.map((m) => `${m.module}.${m.name}`)).toEqual(['json.decoder']);
    expect(c.restarts).toBe(0);
  });

  it('refuses oversized input before sending it', async () => {
    const c = newClient({ maxInputBytes: 1000 });
    await expect(c.extractCode('x'.repeat(2000))).rejects.toMatchObject({ code: 'data-invalid' });
    const check = await checkWorkflow({ graph: 'y'.repeat(2000), prompt: '' }, { knownOperators: FLOWREASONER_OPERATORS, client: c });
    expect(check.failures.map((f) => [f.code, f.where])).toEqual([['syntax-error', 'graph']]);
  });

  it('restarts after the process is killed, failing only the request that was in flight', async () => {
    const c = newClient();
    await c.ping();
    const pid = c.pid as number;
    const inFlight = codeOf(sleep(c, 5000));
    await new Promise((r) => setTimeout(r, 100));
    process.kill(-pid, 'SIGKILL');
    await waitForExit(pid);
    expect(await inFlight).toBe('analyzer-failed');
    const after = await c.extractCode('```python\ndef f():\n    return 1\n```', 'f');
    expect(after.code).toBe('def f():\n    return 1\n');
    expect(c.pid).not.toBe(pid);
    expect(c.restarts).toBe(1);
  });

  it('kills a request past its timeout, restarts, and re-sends the innocent requests that were in flight', async () => {
    const c = newClient();
    await c.ping();
    const pid = c.pid as number;
    const stuck = codeOf(sleep(c, 5000, 300));
    const bystander = sleep(c, 600, 10_000);
    expect(await stuck).toBe('timeout');
    await expect(bystander).resolves.toEqual({});
    expect(c.pid).not.toBe(pid);
    expect(c.restarts).toBe(1);
    expect((await c.ping()).python).toMatch(/^3\./);
  });

  it('rejects pending requests on close and refuses new ones', async () => {
    const c = newClient();
    await c.ping();
    const pending = codeOf(sleep(c, 5000));
    await c.close();
    expect(await pending).toBe('aborted');
    await expect(c.ping()).rejects.toBeInstanceOf(PipelineError);
  });
});
