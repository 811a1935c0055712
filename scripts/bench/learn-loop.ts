// One closed learning loop on CPU: the decision-policy server, `flowreasoner grpo` against it, and the torch GRPO
// trainer consuming grpo-exchange/v1 over HTTP. Used by `npm run bench:learn` and by the learning tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface LearnOptions {
  /** The run directory `flowreasoner grpo` writes (created). */
  out: string;
  config?: string;
  steps: number;
  /** Extra `--set key=value` overrides for the grpo config. */
  set?: readonly string[];
  /** The control run: the trainer multiplies every advantage by −1. */
  negateAdvantage?: boolean;
  lr?: number;
  /** Same seed in the server and the trainer: both build version 0 from it. */
  initSeed?: number;
  /** Extra trainer arguments (tests use the hidden crash hook). */
  trainerArgs?: readonly string[];
  /** Called with the trainer process once it is started (tests kill it). */
  onTrainer?: (child: ChildProcess, restart: () => ChildProcess) => void;
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface LearnResult {
  /** Mean reward of each step, in step order, from grpo/metrics.jsonl. */
  rewards: number[];
  passRates: number[];
  workerTokensPerSample: number[];
  /** Every JSON line the trainer processes printed on stdout (trained / replayed / acked), in order. */
  trainerEvents: Array<Record<string, unknown>>;
  wallS: number;
  runDir: string;
}

/** The trainer venv's Python (scripts/trainers/setup-venv.sh); a missing one is an error naming the command. */
export function trainerPythonPath(): string {
  const py = process.env.FR_TRAINER_PYTHON ?? path.join(REPO, '.venv', 'bin', 'python');
  if (!existsSync(py)) throw new Error(`no trainer Python at ${py}: run \`bash scripts/trainers/setup-venv.sh\` (CPU torch and pyarrow from the local package mirror)`);
  return py;
}

const PY_ENV = { PYTHONUNBUFFERED: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };

/** Resolves with the first stdout line that parses as JSON and satisfies `want`; rejects when the process exits first. */
function firstJsonLine(child: ChildProcess, want: (o: Record<string, unknown>) => boolean, onLine?: (line: string) => void): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    if (child.stdout === null) return reject(new Error('no stdout to read'));
    const rl = createInterface({ input: child.stdout });
    let done = false;
    rl.on('line', (line) => {
      onLine?.(line);
      if (done) return;
      try {
        const o = JSON.parse(line) as unknown;
        if (o !== null && typeof o === 'object' && want(o as Record<string, unknown>)) {
          done = true;
          resolve(o as Record<string, unknown>);
        }
      } catch {
        // not a JSON line
      }
    });
    child.once('exit', (code, signal) => {
      if (!done) reject(new Error(`process exited (${code ?? signal}) before it was ready`));
    });
  });
}

export interface PolicyServer {
  child: ChildProcess;
  /** The OpenAI base URL, ending in /v1. */
  url: string;
  close: () => Promise<void>;
}

/** Starts scripts/trainers/policy_server.py on a free port with version 0 = make_policy(initSeed). */
export async function startPolicyServer(initSeed = 0, onSpawn?: (child: ChildProcess) => void): Promise<PolicyServer> {
  const child = spawn(trainerPythonPath(), [path.join(REPO, 'scripts/trainers/policy_server.py'), '--port', '0', '--init-seed', String(initSeed)], {
    cwd: REPO,
    env: { ...process.env, ...PY_ENV },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  onSpawn?.(child);
  const listening = await firstJsonLine(child, (o) => o.event === 'listening');
  return {
    child,
    url: String(listening.url),
    close: async () => {
      child.kill('SIGTERM');
      await exited(child);
    },
  };
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Runs one loop to the end and returns the reward per step. Throws when any of the three processes fails. */
export async function runLearning(opts: LearnOptions): Promise<LearnResult> {
  const t0 = Date.now();
  const log = opts.log ?? (() => undefined);
  const py = trainerPythonPath();
  const initSeed = opts.initSeed ?? 0;
  await mkdir(opts.out, { recursive: true });
  const children: ChildProcess[] = [];
  const stderrTail: Record<string, string> = {};
  const keepTail = (name: string, child: ChildProcess): void => {
    child.stderr?.on('data', (d: Buffer) => {
      stderrTail[name] = ((stderrTail[name] ?? '') + d.toString()).slice(-6000);
    });
  };
  const timer = setTimeout(() => {
    for (const c of children) c.kill('SIGKILL');
  }, opts.timeoutMs ?? 900_000);
  try {
    const { child: server, url: policyUrl } = await startPolicyServer(initSeed, (child) => {
      children.push(child);
      keepTail('policy server', child);
    });
    log(`policy server at ${policyUrl}`);

    const grpoArgs = [
      path.join(REPO, 'scripts/flowreasoner.mjs'),
      'grpo',
      '--config',
      opts.config ?? path.join(REPO, 'configs/bench-learn.yaml'),
      '--out',
      opts.out,
      // The policy request holds no version, so a shared cache would hand the control run the learning run's samples.
      '--no-cache',
      '--set',
      `grpo.steps=${opts.steps}`,
      ...(opts.set ?? []).flatMap((s) => ['--set', s]),
    ];
    const grpo = spawn(process.execPath, grpoArgs, { cwd: REPO, env: { ...process.env, FR_POLICY_URL: policyUrl }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(grpo);
    keepTail('grpo', grpo);
    const exchangeLine = new Promise<string>((resolve, reject) => {
      const rl = createInterface({ input: grpo.stdout });
      rl.on('line', (line) => {
        const m = /^grpo-exchange\/v1 at .*, HTTP (\S+)$/.exec(line);
        if (m?.[1] !== undefined) resolve(m[1]);
      });
      grpo.once('exit', (code) => reject(new Error(`grpo exited (${code}) before its exchange started:\n${stderrTail.grpo ?? ''}`)));
    });
    const exchangeUrl = await exchangeLine;
    log(`exchange at ${exchangeUrl}`);

    const trainerEvents: Array<Record<string, unknown>> = [];
    const trainerArgv = [
      path.join(REPO, 'scripts/trainers/torch_grpo.py'),
      '--url',
      exchangeUrl,
      '--policy-server',
      policyUrl,
      '--ckpt',
      path.join(opts.out, 'trainer'),
      '--steps',
      String(opts.steps),
      '--init-seed',
      String(initSeed),
      ...(opts.lr !== undefined ? ['--lr', String(opts.lr)] : []),
      ...(opts.negateAdvantage ? ['--negate-advantage'] : []),
    ];
    const startTrainer = (extra: readonly string[]): ChildProcess => {
      const child = spawn(py, [...trainerArgv, ...extra], { cwd: REPO, env: { ...process.env, ...PY_ENV }, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      keepTail('trainer', child);
      const rl = createInterface({ input: child.stdout! });
      rl.on('line', (line) => {
        try {
          const o = JSON.parse(line) as Record<string, unknown>;
          trainerEvents.push(o);
          if (o.event === 'trained') log(`trained step ${String(o.step)}: reward ${Number(o.reward_mean).toFixed(3)}`);
        } catch {
          log(`trainer: ${line}`);
        }
      });
      return child;
    };
    let trainer = startTrainer(opts.trainerArgs ?? []);
    opts.onTrainer?.(trainer, () => {
      trainer = startTrainer([]);
      return trainer;
    });

    const grpoCode = await exited(grpo);
    if (grpoCode !== 0) throw new Error(`grpo exited with ${grpoCode}:\n${stderrTail.grpo ?? ''}\ntrainer:\n${stderrTail.trainer ?? ''}`);
    // The current trainer process (a test may have replaced it) must finish on its own once every step is acked.
    const trainerCode = await exited(trainer);
    if (trainerCode !== 0) throw new Error(`the trainer exited with ${trainerCode}:\n${stderrTail.trainer ?? ''}`);

    const metrics = (await readFile(path.join(opts.out, 'grpo', 'metrics.jsonl'), 'utf8'))
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { step: number; rewardMean: number; passRate: number; workerTokens: number; samples: number });
    metrics.sort((a, b) => a.step - b.step);
    return {
      rewards: metrics.map((m) => m.rewardMean),
      passRates: metrics.map((m) => m.passRate),
      workerTokensPerSample: metrics.map((m) => m.workerTokens / Math.max(1, m.samples)),
      trainerEvents,
      wallS: (Date.now() - t0) / 1000,
      runDir: opts.out,
    };
  } finally {
    clearTimeout(timer);
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    await Promise.all(children.map((c) => Promise.race([exited(c), new Promise((r) => setTimeout(r, 3000))])));
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}
