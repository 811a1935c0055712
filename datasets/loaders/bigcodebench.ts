// Loads BigCodeBench and BigCodeBench-Hard (v0.1.4 reconstructed by default, or v0.1.0_hf): hidden = the TestCases suite, public = its first method.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { PipelineError } from '../../pipeline/errors.ts';
import { DATA_FILES, requireDataFile } from '../data-files.ts';
import { LIMITS } from '../limits.ts';
import { parsePythonStringList } from '../python-literal.ts';
import { parseRow, readRows, rowError } from '../read-rows.ts';
import { bigcodebenchPublicTest } from '../split-rules.ts';
import type { Task } from '../task.ts';

export const BIGCODEBENCH_VERSIONS = ['0.1.4', '0.1.0'] as const;
export const BigCodeBenchVersionSchema = z.enum(BIGCODEBENCH_VERSIONS);
export type BigCodeBenchVersion = z.infer<typeof BigCodeBenchVersionSchema>;

const BcbRow = z.object({
  task_id: z.string().regex(/^BigCodeBench\/\d+$/, 'expected "BigCodeBench/<number>"'),
  complete_prompt: z.string().min(1),
  instruct_prompt: z.string().min(1),
  canonical_solution: z.string().min(1),
  code_prompt: z.string().min(1),
  test: z.string().min(1),
  entry_point: z.string().min(1),
  libs: z.string(),
});

const ImportsFile = z.record(z.string(), z.array(z.string().min(1)));

export interface BigCodeBenchOptions {
  version?: BigCodeBenchVersion;
  hard?: boolean;
}

/** The files a BigCodeBench load reads, in the order it reads them. */
export function bigcodebenchFiles(opts: BigCodeBenchOptions = {}): string[] {
  const version = opts.version ?? '0.1.4';
  if (version === '0.1.4') return [opts.hard === true ? DATA_FILES.bigcodebenchHard014 : DATA_FILES.bigcodebench014, DATA_FILES.bigcodebenchImports];
  return [DATA_FILES.bigcodebench010, DATA_FILES.bigcodebenchImports, ...(opts.hard === true ? [DATA_FILES.bigcodebenchHardIds] : [])];
}

export async function loadBigCodeBench(dataDir: string, opts: BigCodeBenchOptions = {}): Promise<Task[]> {
  const version = opts.version ?? '0.1.4';
  const hard = opts.hard === true;
  const [dataFile] = bigcodebenchFiles(opts) as [string];
  const requires = await readImports(dataDir);
  // v0.1.0 has no Hard file of its own; the Hard ids select from the full file.
  const keep = version === '0.1.0' && hard ? await readHardIds(dataDir) : undefined;
  const tasks: Task[] = [];
  for await (const row of readRows(dataDir, dataFile)) {
    const r = parseRow(BcbRow, row);
    if (keep !== undefined && !keep.has(r.task_id)) continue;
    const libs = parsePythonStringList(r.libs);
    if (libs === undefined) throw rowError(row, 'libs', `expected a Python list of module names, found ${JSON.stringify(r.libs.slice(0, 60))}`);
    const publicTest = bigcodebenchPublicTest(r.test);
    if (publicTest === undefined) throw rowError(row, 'test', 'no `class TestCases` with a test method');
    const needs = requires.get(r.task_id);
    if (needs === undefined) throw rowError(row, 'task_id', `${r.task_id} is not in ${DATA_FILES.bigcodebenchImports}`);
    const spec = { harness: 'unittest' as const, entryPoint: r.entry_point, timeoutS: LIMITS.bigcodebench.timeoutS };
    tasks.push({
      id: r.task_id,
      benchmark: hard ? 'bigcodebench-hard' : 'bigcodebench',
      prompt: r.complete_prompt,
      entryPoint: r.entry_point,
      reference: r.complete_prompt + r.canonical_solution,
      completionPrefix: r.complete_prompt,
      publicTests: { ...spec, requires: [...needs], test: publicTest },
      hiddenTests: { ...spec, requires: [...needs], test: r.test },
      requires: [...needs],
      meta: { codePrompt: r.code_prompt, instructPrompt: r.instruct_prompt, libs, version, file: dataFile },
    });
  }
  if (keep !== undefined && tasks.length !== keep.size) {
    throw new PipelineError('data-invalid', `${DATA_FILES.bigcodebenchHardIds}: ${keep.size - tasks.length} of its ${keep.size} ids are not in ${dataFile}`);
  }
  return tasks;
}

/** task_id -> top-level non-stdlib modules (an ast scan of prompt, solution and test; see ../shared/datasets/README.txt). */
async function readImports(dataDir: string): Promise<Map<string, string[]>> {
  const file = await requireDataFile(dataDir, DATA_FILES.bigcodebenchImports);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new PipelineError('data-invalid', `${file}:1: not valid JSON (${(e as Error).message})`, { cause: e });
  }
  const r = ImportsFile.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new PipelineError('data-invalid', `${file}:1: field "${issue?.path.map(String).join('.') ?? ''}": ${issue?.message ?? 'invalid'}`);
  }
  return new Map(Object.entries(r.data));
}

async function readHardIds(dataDir: string): Promise<Set<string>> {
  const file = await requireDataFile(dataDir, DATA_FILES.bigcodebenchHardIds);
  const ids = (await readFile(file, 'utf8')).split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return new Set(ids);
}
