// The workflow and distill commands as users call them: run/check/render print JSON or Mermaid; a missing key fails fast.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, sharedDatasets, tmpDir } from './helpers/tmp.ts';

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'pipeline/cli/main.ts', ...args], { cwd: repoRoot, env: { ...process.env, FLOWREASONER_DATA_DIR: sharedDatasets, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const GRAPH = `class Workflow:
    def __init__(self, name: str, llm_config, dataset) -> None:
        self.llm = create_llm_instance(llm_config)
        self.gen = operator.CustomCodeGenerate(self.llm)
        self.test = operator.Test(self.llm)

    async def __call__(self, problem: str, entry_point: str):
        d = await self.gen(problem=problem, entry_point=entry_point, instruction=prompt_custom.CAREFUL)
        for _ in range(2):
            t = await self.test(problem=problem, solution=d['response'], entry_point=entry_point)
            if t['result']:
                break
        return t['solution'], self.llm.cost_manager.total_cost
`;

describe('workflow command', () => {
  it('runs a graph on a task K times and prints the run result as JSON; checks and renders it', async () => {
    const dir = await tmpDir();
    const graph = path.join(dir, 'graph.py');
    const prompt = path.join(dir, 'prompt.py');
    await writeFile(graph, GRAPH);
    await writeFile(prompt, 'CAREFUL = "Handle empty inputs."\n');
    const run = await cli(['workflow', 'run', '--dataset', 'humaneval', '--task', 'HumanEval/0', '--graph', graph, '--prompt', prompt, '--runs', '2', '--set', `cache.dir=${path.join(dir, 'cache')}`]);
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as { score: number; runs: Array<{ status: string; trace: Array<{ op: string }>; totals: { workerCalls: number } }>; metrics: { loops: number } };
    expect(out.runs).toHaveLength(2);
    expect(out.runs.every((r) => r.status === 'ok')).toBe(true);
    expect(out.runs[0]!.trace[0]!.op).toBe('CustomCodeGenerate');
    expect(out.metrics.loops).toBe(1);
    expect(out.score).toBeGreaterThanOrEqual(0);

    const check = await cli(['workflow', 'check', graph, '--prompt', prompt]);
    expect(check.code, check.stderr).toBe(0);
    expect((JSON.parse(check.stdout) as { ok: boolean }).ok).toBe(true);
    const bad = path.join(dir, 'reply.txt');
    await writeFile(bad, '<modification>x</modification>\n<graph>\n' + GRAPH.replace('operator.Test', 'operator.Oracle') + '</graph>\n<prompt>\nCAREFUL = "x"\n</prompt>\n');
    const failed = await cli(['workflow', 'check', bad]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('unknown-operator');

    const render = await cli(['workflow', 'render', graph, '--prompt', prompt]);
    expect(render.code, render.stderr).toBe(0);
    expect(render.stdout).toMatch(/^flowchart TD/);
    expect(render.stdout).toContain('CustomCodeGenerate');
  }, 120_000);
});

describe('distill fail-fast', () => {
  it('names the role, the URL and the variable to set when a key is missing', async () => {
    const r = await cli(['distill', '--out', path.join(await tmpDir(), 'd')], { DEEPSEEK_API_KEY: '', OPENAI_API_KEY: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/role teacher/);
    expect(r.stderr).toContain('api.deepseek.com');
    expect(r.stderr).toContain('DEEPSEEK_API_KEY');
  }, 60_000);
});
