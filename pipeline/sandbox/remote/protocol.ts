// Wire formats of the sandbox service: our own POST /v1/execute (an ExecJob in, an ExecResult out, so a remote judge
// gives exactly the local executor's verdicts) and SandboxFusion's POST /run_code, field for field.
import { z } from 'zod';
import type { ExecJob, ExecResult } from '../job.ts';

const NamedTestSchema = z.strictObject({ name: z.string(), code: z.string() });

/** ExecJob as JSON. Strict: a field this side does not know is refused, not silently dropped from the judging. */
export const ExecJobSchema = z.strictObject({
  harness: z.enum(['check', 'asserts', 'evalplus', 'unittest']),
  program: z.string(),
  entryPoint: z.string(),
  test: z.string().optional(),
  tests: z.array(NamedTestSchema).optional(),
  setup: z.string().optional(),
  timeoutS: z.number().positive().max(3600),
  perCallTimeoutS: z.number().positive().max(3600).optional(),
  baseCount: z.int().min(0).optional(),
  inputsJson: z.string().optional(),
  reference: z.string().optional(),
  atol: z.number().min(0).optional(),
  dataset: z.enum(['humaneval', 'mbpp']).optional(),
  taskId: z.string().optional(),
  judge: z.enum(['outside', 'inside']).optional(),
  fastFail: z.boolean().optional(),
  requires: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_.]*$/, 'a module name')).optional(),
  memoryMb: z.int().min(0).optional(),
});

const TestOutcomeSchema = z.strictObject({ name: z.string(), passed: z.boolean(), error: z.string().optional() });
const PartSchema = z.enum(['pass', 'fail', 'timeout']);

/** ExecResult as JSON; what a client accepts from a server before it believes a verdict. */
export const ExecResultSchema = z
  .strictObject({
    passed: z.boolean(),
    result: z.string(),
    status: z.enum(['pass', 'fail', 'timeout', 'missing-dependency', 'sandbox-error']),
    tests: z.array(TestOutcomeSchema).optional(),
    firstFailure: z.strictObject({ name: z.string(), error: z.string() }).optional(),
    missing: z.array(z.string()).optional(),
    base: PartSchema.optional(),
    plus: PartSchema.optional(),
    output: z.string().optional(),
    durationMs: z.number().min(0),
  })
  .refine((r) => r.passed === (r.status === 'pass'), { message: 'passed must be true exactly when status is pass' });

// Both directions must stay in step with job.ts: these fail to compile when a field is added on one side only.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const jobSchemaMatches: Same<z.infer<typeof ExecJobSchema>, ExecJob> = true;
const resultSchemaMatches: Same<z.infer<typeof ExecResultSchema>, ExecResult> = true;
void jobSchemaMatches;
void resultSchemaMatches;

// ---- SandboxFusion (bytedance/SandboxFusion, sandbox/server/sandbox_api.py and sandbox/runners/types.py) ----------

/** Every value of SandboxFusion's `Language`: a request naming one of these is well formed, though we run python only. */
export const SANDBOX_FUSION_LANGUAGES = [
  'python', 'cpp', 'nodejs', 'go', 'go_test', 'java', 'php', 'csharp', 'bash', 'typescript', 'sql', 'rust', 'cuda', 'lua', 'R', 'perl', 'D_ut', 'ruby',
  'scala', 'julia', 'pytest', 'junit', 'kotlin_script', 'jest', 'verilog', 'python_gpu', 'lean', 'swift', 'racket',
] as const;

/**
 * RunCodeRequest. Defaults as upstream: compile_timeout 10, run_timeout 10, memory_limit_MB -1 (no limit of the
 * request's own; we then apply sandbox.memoryMb), stdin null, files {}, fetch_files []. Unknown keys are ignored, as
 * pydantic does by default.
 */
export const RunCodeRequestSchema = z.object({
  code: z.string(),
  language: z.enum(SANDBOX_FUSION_LANGUAGES),
  compile_timeout: z.number().min(0).default(10),
  run_timeout: z.number().positive().max(3600).default(10),
  memory_limit_MB: z.int().default(-1),
  stdin: z.string().nullable().default(null),
  files: z
    .record(
      z.string().refine((p) => p !== '' && !p.startsWith('/') && !p.split('/').includes('..'), 'a relative path inside the working directory'),
      z.string().nullable(),
    )
    .default({}),
  fetch_files: z.array(z.string()).default([]),
});
export type RunCodeRequest = z.infer<typeof RunCodeRequestSchema>;

/** CommandRunStatus: Error means the command could not be run (SandboxFusion turns it into a SandboxError). */
export type CommandRunStatus = 'Finished' | 'Error' | 'TimeLimitExceeded';

export interface CommandRunResult {
  status: CommandRunStatus;
  execution_time: number | null;
  return_code: number | null;
  stdout: string | null;
  stderr: string | null;
}

/** RunStatus: Success (every command finished with 0), Failed (a non-zero code or a time limit), SandboxError. */
export type RunStatus = 'Success' | 'Failed' | 'SandboxError';

export interface RunCodeResponse {
  status: RunStatus;
  message: string;
  compile_result: CommandRunResult | null;
  run_result: CommandRunResult | null;
  executor_pod_name: string | null;
  files: Record<string, string>;
}

/** What a client reads back from any SandboxFusion-compatible server (ours or upstream). */
export const RunCodeResponseSchema = z.object({
  status: z.enum(['Success', 'Failed', 'SandboxError']),
  message: z.string().default(''),
  compile_result: z
    .object({ status: z.enum(['Finished', 'Error', 'TimeLimitExceeded']), return_code: z.number().nullable().optional(), stderr: z.string().nullable().optional() })
    .nullable()
    .optional(),
  run_result: z
    .object({
      status: z.enum(['Finished', 'Error', 'TimeLimitExceeded']),
      execution_time: z.number().nullable().optional(),
      return_code: z.number().nullable().optional(),
      stdout: z.string().nullable().optional(),
      stderr: z.string().nullable().optional(),
    })
    .nullable()
    .optional(),
  files: z.record(z.string(), z.string()).default({}),
});
