// Sandbox settings: isolation mode, interpreter, pool size and the limits enforced on every job.
import os from 'node:os';
import { z } from 'zod';

/**
 * Judging on other machines (`flowreasoner serve sandbox` instances, or a SandboxFusion fleet) instead of here. The
 * other keys of `sandbox` still govern what runs locally (the workflow runtimes, the AST service).
 */
export const RemoteSandboxSchema = z.strictObject({
  urls: z
    .array(z.url({ protocol: /^https?$/ }))
    .min(1)
    .describe('Base URLs of the services, e.g. http://10.0.0.5:8300 (ours) or http://sandbox:8080 (SandboxFusion); jobs go to the one with the fewest in flight, and fail over.'),
  protocol: z
    .enum(['flowreasoner', 'sandbox-fusion'])
    .default('flowreasoner')
    .describe(
      "flowreasoner: POST /v1/execute on `flowreasoner serve sandbox`, the local executor's exact verdicts. sandbox-fusion: POST /run_code on SandboxFusion; human-eval and MBPP jobs only, judged in the candidate's process (its verdict can be forged by hostile code: never for RL rewards).",
    ),
  tokenEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
    .optional()
    .describe('Environment variable holding the bearer token the services expect (serve sandbox --token-env).'),
  concurrencyPerUrl: z.int().min(1).max(1024).default(8).describe('Jobs in flight per URL (match the service\'s workers).'),
  retries: z.int().min(0).max(20).default(4).describe('Further attempts per job after a refused or reset connection, a 5xx or a timeout, on another URL when there is one; then the job is a sandbox-error, never a failure.'),
  timeoutS: z.number().positive().default(120).describe("Seconds one attempt may take on top of the job's own time limit (queueing and transfer)."),
});

export const SandboxSchema = z.strictObject({
  mode: z
    .enum(['auto', 'bwrap', 'process'])
    .default('auto')
    .describe('bwrap: bubblewrap isolation (no network, read-only system, private /tmp). process: plain processes with the same limits. auto: bwrap when installed, else process with a warning.'),
  python: z.string().default('/usr/bin/python3').describe('Interpreter that runs candidate code (Debian python3 sees python3-* packages such as numpy).'),
  workers: z
    .int()
    .min(0)
    .max(256)
    .default(0)
    .transform((n) => (n === 0 ? Math.max(1, os.availableParallelism()) : n))
    .describe('Warm interpreters; 0 = one per core.'),
  preload: z.array(z.string()).default([]).describe('Modules imported once in each warm interpreter (e.g. numpy, pandas for BigCodeBench).'),
  memoryMb: z.int().min(0).default(4096).describe('Address-space limit per job (0 = none).'),
  stackMb: z.int().min(0).default(0).describe('Stack limit per job (0 = inherit).'),
  fileSizeMb: z.int().min(1).default(64).describe('Largest file a job may write.'),
  maxProcesses: z.int().min(1).default(64).describe('Processes a job may have at once (RLIMIT_NPROC; needs an unprivileged sandbox user when run as root).'),
  outputKb: z.int().min(1).default(64).describe('Captured output kept per job; the rest is drained and dropped.'),
  graceS: z.number().min(0).default(1).describe('Extra wall time after the harness limit before the process group is killed.'),
  sandboxUser: z.int().min(1).default(65534).describe('When run as root, jobs run with this gid (nogroup) and a uid of their own per worker (see uidBase).'),
  uidBase: z
    .int()
    .min(1000)
    .max(4_000_000_000)
    .default(1_000_000_000)
    .describe('When run as root, each warm worker runs as its own uid from this base upward (no /etc/passwd entry needed), so per-uid process limits are per worker.'),
  inProcessAudit: z
    .enum(['strict', 'compatible'])
    .default('strict')
    .describe(
      "Suites that must run in the candidate's process (BigCodeBench): strict refuses frame introspection and gc walks while candidate code runs, so harness state stays out of reach (gc.get_referents on pandas objects alone is allowed: pandas' copy check); three BigCodeBench reference solutions then fail because their libraries read frames (patsy, sympy). compatible allows frames and gc.get_referents (still refusing heap and thread walks, tracing and ctypes-free code swaps) and matches the official verdicts; use it to evaluate models you trust, never for RL rewards. `evaluate --reference` uses compatible unless this key is set.",
    ),
  allowHostUid: z
    .boolean()
    .default(false)
    .describe(
      'Process mode only, when not run as root: allow candidate code to run as your own uid although an API key is in the environment. Such code can read this process\'s environment (/proc/<pid>/environ), memory and your files, keys included. Prefer bubblewrap (sandbox.mode: bwrap) or running as root.',
    ),
  remote: RemoteSandboxSchema.optional().describe('Judge on remote sandbox services instead of this machine (absent: here).'),
});

export type SandboxConfig = z.infer<typeof SandboxSchema>;
export type SandboxConfigInput = z.input<typeof SandboxSchema>;
export type RemoteSandboxConfig = z.infer<typeof RemoteSandboxSchema>;
