// scripts/cluster/k8s without a cluster: the manifests are checked for what Kubernetes needs of them, and then the
// containers' own commands are run here exactly as their pods would run them (the manifest's command and env, one
// JOB_COMPLETION_INDEX per pod, `parallelism` at a time, a pod killed and retried), then the merge Job's command.
// The merged traces must equal an unsharded run. The CronJob's script runs against a stand-in kubectl that records
// what it is asked to create and wait for.
import { spawn } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { repoRoot, sharedDatasets, tmpDir } from './helpers/tmp.ts';
import { runProcess } from './helpers/trainer-python.ts';
import { stableTracesOf } from './helpers/distill-traces.ts';

const K8S = path.join(repoRoot, 'scripts', 'cluster', 'k8s');

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
}
interface Container {
  name: string;
  image: string;
  command: string[];
  workingDir?: string;
  env?: EnvVar[];
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}
interface PodSpec {
  restartPolicy: string;
  containers: Container[];
  volumes?: Array<{ name: string; persistentVolumeClaim?: { claimName: string }; configMap?: { name: string } }>;
  serviceAccountName?: string;
}
interface JobSpec {
  completionMode?: string;
  completions?: number;
  parallelism?: number;
  backoffLimitPerIndex?: number;
  template: { spec: PodSpec };
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: Record<string, unknown>;
}

async function manifests(file: string): Promise<Manifest[]> {
  const docs = parseAllDocuments(await readFile(path.join(K8S, file), 'utf8'));
  for (const d of docs) expect(d.errors, file).toEqual([]);
  return docs.map((d) => d.toJS() as Manifest);
}

const envOf = (c: Container): Record<string, string> => Object.fromEntries((c.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value as string]));

let indexed: JobSpec;
let merge: JobSpec;
let shardContainer: Container;
let mergeContainer: Container;

beforeAll(async () => {
  const [job] = await manifests('distill-indexed-job.yaml');
  const [m] = await manifests('merge-job.yaml');
  indexed = job!.spec as unknown as JobSpec;
  merge = m!.spec as unknown as JobSpec;
  shardContainer = indexed.template.spec.containers[0]!;
  mergeContainer = merge.template.spec.containers[0]!;
});

describe('Kubernetes manifests (scripts/cluster/k8s)', () => {
  it('declare an Indexed Job whose shard count, volume and run directory agree with the merge Job', async () => {
    const [job] = await manifests('distill-indexed-job.yaml');
    expect([job!.apiVersion, job!.kind]).toEqual(['batch/v1', 'Job']);
    expect(indexed.completionMode).toBe('Indexed');
    const shards = Number(envOf(shardContainer).FR_SHARDS);
    expect(indexed.completions).toBe(shards);
    expect(indexed.parallelism).toBeLessThanOrEqual(shards);
    expect(indexed.backoffLimitPerIndex).toBeGreaterThan(0);
    expect(indexed.template.spec.restartPolicy).toBe('Never');
    expect(shardContainer.command).toEqual(['bash', 'scripts/cluster/shard-task.sh', 'distill']);
    expect(mergeContainer.command).toEqual(['bash', 'scripts/cluster/merge-shards.sh', 'distill']);
    expect(envOf(mergeContainer).FR_SHARDS).toBe(String(shards));
    expect(envOf(mergeContainer).FR_RUN_DIR).toBe(envOf(shardContainer).FR_RUN_DIR);
    const claim = (s: PodSpec, mount: string): string | undefined => {
      const name = s.containers[0]!.volumeMounts?.find((v) => v.mountPath === mount)?.name;
      return s.volumes?.find((v) => v.name === name)?.persistentVolumeClaim?.claimName;
    };
    expect(claim(indexed.template.spec, '/runs')).toBe('flowreasoner-runs');
    expect(claim(merge.template.spec, '/runs')).toBe('flowreasoner-runs');
    // API keys only through Secrets, never as literal values in a manifest.
    for (const e of shardContainer.env ?? []) if (/KEY|TOKEN/.test(e.name)) expect(e.valueFrom, e.name).toBeDefined();
  });

  it('schedule runs with a CronJob that may create and watch Jobs, and nothing else', async () => {
    const docs = await manifests('cronjob.yaml');
    const cron = docs.find((d) => d.kind === 'CronJob')!;
    const role = docs.find((d) => d.kind === 'Role')!;
    expect(cron.spec.schedule).toMatch(/^(\S+\s+){4}\S+$/);
    expect(cron.spec.concurrencyPolicy).toBe('Forbid');
    const pod = (cron.spec.jobTemplate as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
    expect(pod.serviceAccountName).toBe(docs.find((d) => d.kind === 'ServiceAccount')!.metadata.name);
    expect(pod.containers[0]!.command).toEqual(['sh', '/templates/scheduled-run.sh']);
    expect(pod.volumes?.find((v) => v.configMap !== undefined)?.configMap?.name).toBe('fr-cluster');
    expect((role as unknown as { rules: unknown[] }).rules).toEqual([{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'get', 'list', 'watch'] }]);
  });
});

describe('the pods’ commands, run here as Kubernetes would run them', () => {
  let dir = '';
  let config = '';
  let runDir = '';
  /** The environment of pod `index`: the manifest's env, with paths that exist on this machine. */
  const podEnv = (c: Container, index?: number): Record<string, string> => ({
    ...envOf(c),
    FR_REPO: repoRoot,
    FR_CONFIG: config,
    FR_RUN_DIR: runDir,
    FR_NODE: process.execPath,
    FLOWREASONER_DATA_DIR: sharedDatasets,
    ...(index !== undefined ? { JOB_COMPLETION_INDEX: String(index) } : {}),
  });
  const pod = (c: Container, index?: number) => runProcess(c.command[0]!, c.command.slice(1), { env: podEnv(c, index), timeoutMs: 120_000 });

  beforeAll(async () => {
    dir = await tmpDir('fr-k8s-');
    config = path.join(dir, 'distill.yaml');
    await writeFile(
      config,
      [`extends: ${path.join(repoRoot, 'configs', 'demo.yaml')}`, 'sim:', '  latency: { fixedMs: 0, perTokenMs: 0 }', 'distill:', '  maxQueries: 6', '  maxRounds: 1', '  finalRuns: 1', 'cache:', `  dir: ${path.join(dir, 'cache')}`, ''].join('\n'),
    );
    runDir = path.join(dir, 'run');
    // The response cache (on the shared volume in a cluster) is what makes a retried pod replay its first attempt's
    // calls exactly; the simulator, like a real endpoint, may answer a repeated request differently.
  });

  it('shards, a killed pod retried, and the merge give exactly the unsharded run; a finished pod exits at once', async () => {
    const whole = runProcess(process.execPath, ['--import', 'tsx', 'pipeline/cli/main.ts', 'distill', '--config', config, '--out', path.join(dir, 'whole'), '--no-cache'], { env: { FLOWREASONER_DATA_DIR: sharedDatasets } });
    const shards = indexed.completions!;
    // Pod 0's first attempt is killed once its run exists (an eviction); backoffLimitPerIndex gives it another pod.
    const evicted = spawn(shardContainer.command[0]!, shardContainer.command.slice(1), { cwd: repoRoot, env: { ...process.env, ...podEnv(shardContainer, 0) }, stdio: 'ignore', detached: true });
    const shard0 = path.join(runDir, 'shards', '0');
    for (let i = 0; i < 300 && !existsSync(path.join(shard0, 'run.json')); i++) await new Promise((r) => setTimeout(r, 100));
    process.kill(-evicted.pid!, 'SIGKILL');
    await new Promise((r) => evicted.once('exit', r));
    // Then the Job's pods, `parallelism` at a time.
    const queue = Array.from({ length: shards }, (_, i) => i);
    const codes: Record<number, number | null> = {};
    await Promise.all(
      Array.from({ length: indexed.parallelism! }, async () => {
        for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
          const r = await pod(shardContainer, i);
          codes[i] = r.code;
          expect(r.code, r.stderr.slice(-2000)).toBe(0);
        }
      }),
    );
    expect(Object.keys(codes)).toHaveLength(shards);
    const run0 = JSON.parse(await readFile(path.join(shard0, 'run.json'), 'utf8')) as { status: string; resumes: unknown[] };
    expect(run0.status).toBe('completed');
    expect(run0.resumes).toHaveLength(1);

    const merged = await pod(mergeContainer);
    expect(merged.code, merged.stderr).toBe(0);
    const w = await whole;
    expect(w.code, w.stderr.slice(-2000)).toBe(0);
    const a = await stableTracesOf(path.join(dir, 'whole'));
    const b = await stableTracesOf(path.join(runDir, 'merged'));
    expect(a.size).toBe(6);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [id, t] of a) expect(b.get(id), id).toEqual(t);

    // A pod of a completed index (the Job recreated) changes nothing and exits 0; so does a second merge.
    const before = await readFile(path.join(runDir, 'shards', '1', 'run.json'), 'utf8');
    const again = await pod(shardContainer, 1);
    expect(again.code, again.stderr).toBe(0);
    expect(await readFile(path.join(runDir, 'shards', '1', 'run.json'), 'utf8')).toBe(before);
    expect((await pod(mergeContainer)).stderr).toMatch(/already merged/);
    // Without FR_SHARDS a pod cannot know its slice: refused, naming the variable.
    const bare = await runProcess('bash', ['scripts/cluster/shard-task.sh', 'distill'], { env: { ...podEnv(shardContainer, 0), FR_SHARDS: '' } });
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/FR_SHARDS/);
  }, 240_000);

  it('the CronJob’s script creates the Indexed Job, waits for it, then creates and waits for the merge', async () => {
    const bin = path.join(dir, 'bin');
    const log = path.join(dir, 'kubectl.log');
    await runProcess('mkdir', ['-p', bin]);
    // kubectl as the script uses it: `create -f -` (the manifest on stdin) and `wait`.
    await writeFile(path.join(bin, 'kubectl'), `#!/bin/sh\necho "kubectl $*" >> '${log}'\nif [ "$1" = create ]; then cat >> '${log}'; echo '---' >> '${log}'; fi\n`);
    await chmod(path.join(bin, 'kubectl'), 0o755);
    const r = await runProcess('sh', [path.join(K8S, 'scheduled-run.sh')], { env: { PATH: `${bin}:${process.env.PATH ?? ''}`, FR_RUN_ID: '20261206-0200', FR_TEMPLATES: K8S } });
    expect(r.code, r.stderr).toBe(0);
    const calls = (await readFile(log, 'utf8')).split('\n').filter((l) => l.startsWith('kubectl '));
    expect(calls).toEqual([
      'kubectl create -f -',
      'kubectl wait --for=condition=complete job/fr-distill-20261206-0200 --timeout=24h',
      'kubectl create -f -',
      'kubectl wait --for=condition=complete job/fr-distill-merge-20261206-0200 --timeout=24h',
    ]);
    const created = (await readFile(log, 'utf8')).split('---\n').map((chunk) => chunk.split('\n').filter((l) => !l.startsWith('kubectl ')).join('\n')).filter((t) => t.includes('kind:'));
    expect(created).toHaveLength(2);
    for (const text of created) {
      expect(text).not.toContain('RUN_ID');
      const job = parseAllDocuments(text)[0]!.toJS() as Manifest;
      expect(job.metadata.name).toMatch(/20261206-0200$/);
    }
    const bad = await runProcess('sh', [path.join(K8S, 'scheduled-run.sh')], { env: { PATH: `${bin}:${process.env.PATH ?? ''}`, FR_RUN_ID: 'Bad_Name' } });
    expect(bad.code).toBe(2);
  });
});
