// The sandbox settings (sandbox.python, sandbox.mode, sandbox.sandboxUser) reach every Python process that reads
// untrusted input: the executor's workers, the workflow runtimes and the AST service, all started one way.
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../pipeline/gateway/gateway.ts';
import { closeSharedAnalysisClient, sharedAnalysisClient } from '../pipeline/code-analysis/client.ts';
import { Executor } from '../pipeline/sandbox/executor.ts';
import { pythonCommand } from '../pipeline/sandbox/python-command.ts';
import { startSimServer, type SimServer } from '../pipeline/sim/server.ts';
import { runWorkflow } from '../pipeline/workflow/runtime/run-workflow.ts';
import { loadBenchmark } from '../datasets/registry.ts';
import { jobFor, type Task } from '../datasets/task.ts';
import { endpoint } from './helpers/gateway.ts';
import { sharedDatasets, tmpDir } from './helpers/tmp.ts';

let sim: SimServer;
let spyLog = '';
let spy = '';

beforeAll(async () => {
  sim = await startSimServer({ port: 0, dataDir: sharedDatasets, worker: { accuracy: 1 }, latency: { fixedMs: 2 } });
  // An interpreter that records which script it was asked to run, then runs it with Debian's python3.
  const dir = await tmpDir();
  spyLog = path.join(dir, 'spy.log');
  spy = path.join(dir, 'python-spy');
  await writeFile(spyLog, '');
  await chmod(dir, 0o755);
  await chmod(spyLog, 0o666);
  await writeFile(spy, `#!/bin/sh\nfor a in "$@"; do case "$a" in *.py) echo "$a" >> ${spyLog};; esac; done\nexec /usr/bin/python3 "$@"\n`);
  await chmod(spy, 0o755);
});
afterAll(async () => {
  await closeSharedAnalysisClient();
  await sim.close();
});

describe('sandbox settings', () => {
  it('start the workers, a workflow runtime and the AST service with sandbox.python (process mode)', async () => {
    const executor = new Executor({ python: spy, mode: 'process', workers: 1, allowHostUid: true });
    try {
      const task = (await loadBenchmark('humaneval', { dataDir: sharedDatasets })).find((t) => t.id === 'HumanEval/0') as Task;
      const gateway = new Gateway({ models: { worker: endpoint({ baseUrl: sim.url, model: 'sim-worker' }) } });
      const graph = [
        'class Workflow:',
        '    def __init__(self, name: str, llm_config, dataset) -> None:',
        '        self.llm = create_llm_instance(llm_config)',
        '        self.gen = operator.CustomCodeGenerate(self.llm)',
        '    async def __call__(self, problem: str, entry_point: str):',
        "        a = await self.gen(problem=problem, entry_point=entry_point, instruction='Solve it.')",
        "        return a['response']",
        '',
      ].join('\n');
      const run = await runWorkflow({ graph, prompt: '' }, task, { gateway, executor, runKey: 'settings' });
      expect(run.status).toBe('ok');
      const judged = await executor.run(jobFor(task, run.solution, 'hidden'));
      expect(judged.passed).toBe(true);
      await closeSharedAnalysisClient();
      const ping = await sharedAnalysisClient().ping();
      expect(ping.python).toMatch(/^3\.\d+/); // Debian's python3 behind the spy
      const scripts = (await readFile(spyLog, 'utf8')).split('\n').filter((l) => l !== '').map((l) => path.basename(l));
      expect(scripts).toEqual(expect.arrayContaining(['fr_sandbox.py', 'fr_workflow_runtime.py', 'code_analysis_service.py']));
    } finally {
      await executor.close();
    }
  }, 60_000);

  it('build one command shape: bwrap or the plain interpreter, our env stripped, own process group, /tmp', () => {
    process.env.FR_SECRET_FOR_TEST = 'sk-should-not-pass';
    try {
      const plain = pythonCommand({ python: '/usr/bin/python3', mode: 'process', sandboxUser: 65534 }, { dir: '/d', script: 's.py', args: ['x'], bwrap: null });
      expect([plain.cmd, ...plain.args]).toEqual(['/usr/bin/python3', '-I', '-B', '/d/s.py', 'x']);
      expect(plain.options).toMatchObject({ detached: true, cwd: '/tmp' });
      expect(JSON.stringify(plain.options.env)).not.toContain('sk-should-not-pass');
      const boxed = pythonCommand({ python: '/usr/bin/python3', mode: 'bwrap', sandboxUser: 65534 }, { dir: '/d', script: 's.py', bwrap: '/usr/bin/bwrap' });
      expect(boxed.cmd).toBe('/usr/bin/bwrap');
      expect(boxed.args).toEqual(expect.arrayContaining(['--unshare-all', '--clearenv']));
      expect(boxed.isolated).toBe(true);
    } finally {
      delete process.env.FR_SECRET_FOR_TEST;
    }
  });
});
