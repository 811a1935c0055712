// A throwaway single-node Slurm cluster on this machine (Debian's slurm-wlm and munge): munged, slurmctld and slurmd
// run as child processes with every key, socket, state and log file in one temporary directory, on free ports, so
// nothing of the machine's own Slurm or munge setup is used or changed.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A short client command (sinfo, sbatch, scontrol…); plain execFile, so this module registers no vitest hooks. */
function runShort(cmd: string, args: readonly string[], env: Record<string, string>): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, timeout: 30_000 }, (e, stdout, stderr) => {
      const code = e === null ? 0 : typeof e.code === 'number' ? e.code : null;
      resolve({ code, stdout, stderr: stderr || (e?.message ?? '') });
    });
  });
}

const INSTALL = 'apt-get install -y slurm-wlm munge';
const SBIN = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'];

export interface SlurmCluster {
  /** SLURM_CONF and a PATH with the Slurm commands: pass it to sbatch, squeue, scontrol and submit.sh. */
  env: Record<string, string>;
  dir: string;
  /** Runs a Slurm client command (sbatch, squeue, scontrol…) against this cluster. */
  run(cmd: string, args: readonly string[], env?: Record<string, string>): Promise<Ran>;
  /** The tails of the daemons' logs, for a failure message. */
  logs(): Promise<string>;
  /** Cancels every job of this cluster, stops the daemons (SIGTERM, then SIGKILL). Safe to call twice. */
  stop(): Promise<void>;
}

function findBin(name: string): string | null {
  for (const d of [...(process.env.PATH ?? '').split(':').filter(Boolean), ...SBIN]) {
    const p = path.join(d, name);
    if (existsSync(p)) return p;
  }
  return null;
}

/** The daemons and client commands, or an error naming the apt command: this test never skips. */
export function slurmBinaries(): Record<string, string> {
  const names = ['munged', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'scontrol', 'sinfo', 'scancel'];
  const found = Object.fromEntries(names.map((n) => [n, findBin(n)]));
  const missing = names.filter((n) => found[n] === null);
  if (missing.length > 0) throw new Error(`Slurm is not installed (no ${missing.join(', ')}): run \`${INSTALL}\` (.ci/run does this when root)`);
  return found as Record<string, string>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, logs: () => Promise<string>): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(200);
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}\n${await logs()}`);
}

async function tail(file: string, lines = 25): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '(none)');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

export async function startSlurmCluster(dir: string): Promise<SlurmCluster> {
  const bin = slurmBinaries();
  const user = os.userInfo().username;
  const host = os.hostname().split('.')[0] as string;
  for (const d of ['munge', 'state', 'spool', 'log']) await mkdir(path.join(dir, d), { recursive: true, mode: 0o700 });
  const key = path.join(dir, 'munge', 'munge.key');
  // A fresh key rather than /etc/munge/munge.key: that one belongs to the munge user, and the cluster needs none of the machine's.
  await writeFile(key, randomBytes(1024), { mode: 0o600 });
  const socket = path.join(dir, 'munge', 'munge.socket');
  const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
  const conf = path.join(dir, 'slurm.conf');
  const cpus = Math.min(2, os.availableParallelism());
  // Leave headroom: a node that reports less memory than RealMemory is drained.
  const memMb = Math.max(512, Math.floor(os.totalmem() / 2 ** 20) - 512);
  await writeFile(
    conf,
    [
      'ClusterName=frtest',
      `SlurmctldHost=${host}(127.0.0.1)`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${slurmdPort}`,
      `SlurmUser=${user}`,
      `SlurmdUser=${user}`,
      'AuthType=auth/munge',
      'CredType=cred/munge',
      `AuthInfo=socket=${socket}`,
      'MpiDefault=none',
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'JobAcctGatherType=jobacct_gather/none',
      'AccountingStorageType=accounting_storage/none',
      'JobCompType=jobcomp/none',
      'SelectType=select/cons_tres',
      // CPUs only: with memory consumable too, a job without --mem takes the whole node and the array runs one at a time.
      'SelectTypeParameters=CR_CPU',
      // The builtin scheduler starts a job as soon as it is eligible (a satisfied dependency included), without waiting for a backfill pass.
      'SchedulerType=sched/builtin',
      'SchedulerParameters=sched_interval=1',
      'ReturnToService=2',
      'SlurmdParameters=config_overrides',
      `StateSaveLocation=${path.join(dir, 'state')}`,
      `SlurmdSpoolDir=${path.join(dir, 'spool')}`,
      `SlurmctldPidFile=${path.join(dir, 'slurmctld.pid')}`,
      `SlurmdPidFile=${path.join(dir, 'slurmd.pid')}`,
      `SlurmctldLogFile=${path.join(dir, 'log', 'slurmctld.log')}`,
      `SlurmdLogFile=${path.join(dir, 'log', 'slurmd.log')}`,
      'SlurmctldDebug=info',
      'SlurmdDebug=info',
      'MailProg=/bin/true',
      'KillWait=5',
      'MinJobAge=600',
      `NodeName=${host} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${memMb} State=UNKNOWN`,
      `PartitionName=test Nodes=${host} Default=YES MaxTime=INFINITE State=UP`,
      '',
    ].join('\n'),
  );
  const env: Record<string, string> = { SLURM_CONF: conf, PATH: [...(process.env.PATH ?? '').split(':').filter(Boolean), ...SBIN].join(':') };

  const children: ChildProcess[] = [];
  const killAll = (): void => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };
  // A vitest worker that exits without afterAll must not leave daemons behind.
  process.once('exit', killAll);
  const daemon = (name: string, file: string, args: string[]): ChildProcess => {
    const fd = openSync(path.join(dir, 'log', `${name}.out`), 'a');
    const c = spawn(file, args, { stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
    closeSync(fd);
    children.push(c);
    return c;
  };
  const logs = async (): Promise<string> => {
    const parts: string[] = [];
    for (const f of ['munged.out', 'munged.log', 'slurmctld.out', 'slurmctld.log', 'slurmd.out', 'slurmd.log']) parts.push(`--- ${f}\n${await tail(path.join(dir, 'log', f))}`);
    return parts.join('\n');
  };
  const run = (cmd: string, args: readonly string[], extra: Record<string, string> = {}): Promise<Ran> => runShort(bin[cmd] ?? cmd, args, { ...env, ...extra });

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // Jobs first, so no slurmstepd or job process outlives the cluster.
    if (children.length >= 3) {
      await run('scancel', ['--user', user]).catch(() => undefined);
      const end = Date.now() + 15_000;
      while (Date.now() < end) {
        const q = await run('squeue', ['-h', '-o', '%i']).catch(() => null);
        if (q === null || q.code !== 0 || q.stdout.trim() === '') break;
        await sleep(300);
      }
    }
    for (const c of [...children].reverse()) {
      if (c.exitCode !== null || c.signalCode !== null) continue;
      const exited = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill('SIGTERM');
      if ((await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)])) === false) {
        c.kill('SIGKILL');
        await exited;
      }
    }
    process.removeListener('exit', killAll);
  };

  try {
    // -F: foreground, a child of this process; every path in the temporary directory, none of /etc/munge or /run/munge.
    daemon('munged', bin.munged as string, [
      '-F',
      ...(process.getuid?.() === 0 ? ['--force'] : []),
      `--socket=${socket}`,
      `--key-file=${key}`,
      `--log-file=${path.join(dir, 'log', 'munged.log')}`,
      `--pid-file=${path.join(dir, 'munge', 'munged.pid')}`,
      `--seed-file=${path.join(dir, 'munge', 'munged.seed')}`,
    ]);
    await waitFor('munged to open its socket', async () => existsSync(socket), 15_000, logs);
    // -D: foreground; -c: no state from an earlier start (there is none, but a reused directory must not revive jobs).
    daemon('slurmctld', bin.slurmctld as string, ['-D', '-c', '-f', conf]);
    daemon('slurmd', bin.slurmd as string, ['-D', '-f', conf]);
    await waitFor(
      'the node to be idle in sinfo',
      async () => {
        const r = await run('sinfo', ['-h', '-N', '-o', '%T']);
        return r.code === 0 && r.stdout.trim() === 'idle';
      },
      45_000,
      logs,
    );
  } catch (e) {
    await stop();
    throw e;
  }
  return { env, dir, run, logs, stop };
}

export interface JobState {
  id: string;
  state: string;
  exitCode: string;
}

/** Every job record of these ids (an array gives one per task), from scontrol, which keeps finished jobs for MinJobAge. */
export async function jobStates(cluster: SlurmCluster, ids: readonly string[]): Promise<JobState[]> {
  const out: JobState[] = [];
  for (const id of ids) {
    const r = await cluster.run('scontrol', ['-o', 'show', 'job', id]);
    if (r.code !== 0) throw new Error(`scontrol show job ${id}: ${r.stderr}`);
    for (const line of r.stdout.split('\n').filter((l) => l.includes('JobId='))) {
      const field = (k: string): string => new RegExp(`(?:^| )${k}=(\\S+)`).exec(line)?.[1] ?? '?';
      const task = field('ArrayTaskId');
      out.push({ id: task === '?' ? field('JobId') : `${field('ArrayJobId')}_${task}`, state: field('JobState'), exitCode: field('ExitCode') });
    }
  }
  return out;
}

const FINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'OUT_OF_MEMORY', 'BOOT_FAIL', 'DEADLINE', 'PREEMPTED']);

/** Waits until every record of these jobs is in a final state, and returns them. */
export async function waitForJobs(cluster: SlurmCluster, ids: readonly string[], timeoutMs: number): Promise<JobState[]> {
  const end = Date.now() + timeoutMs;
  let states: JobState[] = [];
  while (Date.now() < end) {
    states = await jobStates(cluster, ids);
    if (states.length > 0 && states.every((s) => FINAL.has(s.state))) return states;
    await sleep(500);
  }
  throw new Error(`jobs ${ids.join(', ')} not finished after ${timeoutMs / 1000} s: ${states.map((s) => `${s.id} ${s.state}`).join(', ')}\n${await cluster.logs()}`);
}
