// scripts/cluster/slurm on a real single-node Slurm cluster (Debian's slurm-wlm and munge, started here): a 4-shard
// distill array and a 2-shard eval array through submit.sh, one shard resuming after a kill -9, each merge after
// afterok equal to the unsharded run, and finished shards and merges that exit at once when run again.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvalResultsSchema, type EvalResults } from '../eval/results-schema.ts';
import { repoRoot, sharedDatasets, tmpDir } from './helpers/tmp.ts';
import { stableTracesOf as tracesOf } from './helpers/distill-traces.ts';
import { runProcess, type Ran } from './helpers/trainer-python.ts';
import { startSlurmCluster, waitForJobs, type JobState, type SlurmCluster } from './helpers/slurm-cluster.ts';

const SLURM = path.join(repoRoot, 'scripts', 'cluster', 'slurm');
const SHARDS = 4;

async function runJson(dir: string): Promise<{ status: string; resumes: string[] }> {
  return JSON.parse(await readFile(path.join(dir, 'run.json'), 'utf8')) as { status: string; resumes: string[] };
}

async function resultsOf(dir: string): Promise<Omit<EvalResults, 'createdAt'>> {
  const { createdAt: _, ...rest } = EvalResultsSchema.parse(JSON.parse(await readFile(path.join(dir, 'eval', 'results.json'), 'utf8')));
  return rest;
}

function submitIds(r: Ran): [string, string] {
  const arrayId = /^array job: (\d+)$/m.exec(r.stdout)?.[1];
  const mergeId = /^merge job: (\d+)$/m.exec(r.stdout)?.[1];
  if (arrayId === undefined || mergeId === undefined) throw new Error(`submit.sh printed no job ids:\n${r.stdout}\n${r.stderr}`);
  return [arrayId, mergeId];
}

describe('Slurm array jobs for distill and eval (scripts/cluster/slurm)', () => {
  let cluster: SlurmCluster | null = null;
  let dir = '';
  let config = '';
  let runDir = '';
  let evalRunDir = '';
  let jobEnv: Record<string, string> = {};
  let submitted: Ran[] = [];
  let states: JobState[] = [];

  /** The environment a task of the array sees, for running a shard's command by hand as Slurm would. */
  const taskEnv = (i: number): Record<string, string> => ({
    ...jobEnv,
    SLURM_ARRAY_JOB_ID: '1',
    SLURM_ARRAY_TASK_ID: String(i),
    SLURM_ARRAY_TASK_COUNT: String(SHARDS),
    SLURM_ARRAY_TASK_MIN: '0',
    SLURM_ARRAY_TASK_MAX: String(SHARDS - 1),
  });

  /** Everything a failed assertion needs: job states, every job log, the daemons' logs. */
  const diagnose = async (): Promise<string> => {
    const parts = [...submitted.map((r) => `submit: ${r.stdout}${r.stderr}`), `jobs: ${states.map((s) => `${s.id} ${s.state} ${s.exitCode}`).join(', ')}`];
    for (const logDir of [path.join(runDir, 'logs'), path.join(evalRunDir, 'logs')]) {
      for (const f of existsSync(logDir) ? (await readdir(logDir)).sort() : []) parts.push(`--- ${f}\n${(await readFile(path.join(logDir, f), 'utf8')).slice(-1500)}`);
    }
    if (cluster !== null) parts.push(await cluster.logs());
    return parts.join('\n');
  };

  beforeAll(async () => {
    dir = await tmpDir('fr-slurm-');
    // The distill part of the demo, small and without latency: 8 queries, maxRounds 1.
    config = path.join(dir, 'distill.yaml');
    await writeFile(
      config,
      [
        `extends: ${path.join(repoRoot, 'configs', 'demo.yaml')}`,
        'sim:',
        '  latency: { fixedMs: 0, perTokenMs: 0 }',
        'distill:',
        '  maxQueries: 8',
        '  maxRounds: 1',
        '  finalRuns: 1',
        'cache:',
        `  dir: ${path.join(dir, 'cache')}`,
        '',
      ].join('\n'),
    );
    // The eval table on the simulator, small: two methods on four held-out tasks.
    const evalConfig = path.join(dir, 'eval.yaml');
    await writeFile(
      evalConfig,
      [
        `extends: ${path.join(repoRoot, 'configs', 'eval-sim.yaml')}`,
        'sim:',
        '  latency: { fixedMs: 0, perTokenMs: 0 }',
        'eval:',
        '  datasets: [{ name: humaneval, maxTasks: 2 }, { name: mbpp, split: test, maxTasks: 2 }]',
        '  methods:',
        '    - { name: direct, kind: direct }',
        '    - { name: self-refine, kind: workflow, file: configs/eval/workflows/self-refine.txt }',
        'cache:',
        `  dir: ${path.join(dir, 'cache')}`,
        '',
      ].join('\n'),
    );
    runDir = path.join(dir, 'run');
    evalRunDir = path.join(dir, 'eval-run');
    cluster = await startSlurmCluster(path.join(dir, 'slurm'));
    jobEnv = { ...cluster.env, FLOWREASONER_DATA_DIR: sharedDatasets, FR_REPO: repoRoot, FR_CONFIG: config, FR_RUN_DIR: runDir, FR_NODE: process.execPath };

    // The unsharded runs, without the cache, beside the cluster's jobs.
    const cli = (args: string[]): Promise<Ran> => runProcess(process.execPath, ['--import', 'tsx', 'pipeline/cli/main.ts', ...args, '--no-cache'], { env: { FLOWREASONER_DATA_DIR: sharedDatasets } });
    const wholes = Promise.all([cli(['distill', '--config', config, '--out', path.join(dir, 'whole')]), cli(['eval', '--config', evalConfig, '--out', path.join(dir, 'eval-whole')])]);

    // A shard that crashed: started by hand as task 2 would be, killed -9 once its run directory exists. The array's
    // task 2 must resume it, not refuse the existing directory or start over.
    const crashed = spawn('bash', [path.join(SLURM, 'distill-array.sbatch')], { cwd: repoRoot, env: { ...process.env, ...taskEnv(2) }, stdio: 'ignore' });
    const crashedExit = new Promise<void>((r) => crashed.once('exit', () => r()));
    const shard2 = path.join(runDir, 'shards', '2', 'run.json');
    for (let i = 0; i < 1500 && !existsSync(shard2); i++) await new Promise((r) => setTimeout(r, 20));
    crashed.kill('SIGKILL');
    await crashedExit;
    expect((await runJson(path.dirname(shard2))).status).toBe('running');

    const submit = (args: string[]): Promise<Ran> => runProcess('bash', [path.join(SLURM, 'submit.sh'), ...args], { env: jobEnv });
    submitted = [
      await submit(['--shards', String(SHARDS), '--throttle', '2', '--config', config, '--out', runDir, 'distill']),
      await submit(['--shards', '2', '--config', evalConfig, '--out', evalRunDir, 'eval']),
    ];
    for (const r of submitted) expect(r.code, await diagnose()).toBe(0);
    states = await waitForJobs(cluster, submitted.flatMap(submitIds), 180_000);
    for (const w of await wholes) expect(w.code, w.stderr.slice(-2000)).toBe(0);
  }, 300_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  it('runs every array task and then each merge job to completion', async () => {
    const [distillArray] = submitIds(submitted[0] as Ran);
    const tasks = states.filter((s) => s.id.startsWith(`${distillArray}_`));
    expect(tasks.map((s) => s.id.split('_')[1]).sort(), await diagnose()).toEqual(['0', '1', '2', '3']);
    expect(states).toHaveLength(SHARDS + 1 + 2 + 1);
    expect(states.every((s) => s.state === 'COMPLETED' && s.exitCode === '0:0'), await diagnose()).toBe(true);
    for (let i = 0; i < SHARDS; i++) expect((await runJson(path.join(runDir, 'shards', String(i)))).status).toBe('completed');
    const merge = JSON.parse(await readFile(path.join(runDir, 'merged', 'merge.json'), 'utf8')) as { shards: string[] };
    expect(merge.shards).toHaveLength(SHARDS);
  });

  it('merges into exactly the traces of the unsharded run', async () => {
    const a = await tracesOf(path.join(dir, 'whole'));
    const b = await tracesOf(path.join(runDir, 'merged'));
    expect(a.size).toBe(8);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [id, t] of a) expect(b.get(id), id).toEqual(t);
  });

  it('merges the eval shards into exactly the table of the unsharded run', async () => {
    expect(JSON.parse(await readFile(path.join(evalRunDir, 'merged', 'merge.json'), 'utf8'))).toMatchObject({ samples: 8, excluded: 0 });
    expect(await resultsOf(path.join(evalRunDir, 'merged'))).toEqual(await resultsOf(path.join(dir, 'eval-whole')));
  });

  it('resumed the shard that was killed, and started the others once', async () => {
    expect((await runJson(path.join(runDir, 'shards', '2'))).resumes).toHaveLength(1);
    for (const i of [0, 1, 3]) expect((await runJson(path.join(runDir, 'shards', String(i)))).resumes).toHaveLength(0);
  });

  it('exits at once, touching nothing, when a finished shard or the merge runs again (a requeue)', async () => {
    const shard = path.join(runDir, 'shards', '1');
    const files = ['run.json', 'distill/traces.jsonl', 'distill/rounds.jsonl', 'calls.jsonl', 'log.jsonl'];
    const before = await Promise.all(files.map((f) => readFile(path.join(shard, f), 'utf8')));
    const t0 = Date.now();
    const again = await runProcess('bash', [path.join(SLURM, 'distill-array.sbatch')], { env: taskEnv(1) });
    const ms = Date.now() - t0;
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/already completed: nothing to do/);
    expect(await Promise.all(files.map((f) => readFile(path.join(shard, f), 'utf8')))).toEqual(before);
    // No run is opened: the time is the CLI's start-up through tsx, not a simulator, preflight or sandbox.
    expect(ms).toBeLessThan(20_000);

    const merged = await readFile(path.join(runDir, 'merged', 'distill', 'traces.jsonl'), 'utf8');
    const remerge = await runProcess('bash', [path.join(SLURM, 'merge.sbatch'), 'distill'], { env: jobEnv });
    expect(remerge.code, remerge.stderr).toBe(0);
    expect(remerge.stderr).toMatch(/already merged/);
    expect(await readFile(path.join(runDir, 'merged', 'distill', 'traces.jsonl'), 'utf8')).toBe(merged);
  });
});
