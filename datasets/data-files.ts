// Where the benchmark files live and what each is called; a missing file becomes a `data-missing` error that says what to do.
import { access } from 'node:fs/promises';
import path from 'node:path';
import { PipelineError } from '../pipeline/errors.ts';
import { REPO_ROOT } from '../pipeline/source-dir.ts';

/** The staged file names (../shared/datasets/README.txt); the names carry the upstream version. */
export const DATA_FILES = {
  humaneval: 'HumanEval.jsonl.gz',
  humanevalPlus: 'HumanEvalPlus-v0.1.10.jsonl.gz',
  humanevalPlusOriginFmt: 'HumanEvalPlus-OriginFmt-v0.1.10.jsonl.gz',
  mbppPlus: 'MbppPlus-v0.2.0.jsonl.gz',
  mbppPlusOriginFmt: 'MbppPlus-OriginFmt-v0.2.0.jsonl.gz',
  mbpp: 'mbpp.jsonl',
  mbppSanitized: 'sanitized-mbpp.json',
  bigcodebench010: 'BigCodeBench-v0.1.0_hf.jsonl.gz',
  bigcodebench014: 'BigCodeBench-v0.1.4.reconstructed.jsonl.gz',
  bigcodebenchHard014: 'BigCodeBench-Hard-v0.1.4.reconstructed.jsonl.gz',
  bigcodebenchHardIds: 'bigcodebench-hard-task-ids.txt',
  bigcodebenchImports: 'bigcodebench-v0.1.4-nonstdlib-imports-by-task.json',
} as const;

/** The data folder: an explicit choice, else $FLOWREASONER_DATA_DIR, else ../shared/datasets beside the repository. */
export function resolveDataDir(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = explicit ?? env.FLOWREASONER_DATA_DIR;
  return chosen !== undefined && chosen !== '' ? path.resolve(chosen) : path.resolve(REPO_ROOT, '..', 'shared', 'datasets');
}

export const MISSING_HINT = 'Run `npm run data:download` to fetch the files, or set FLOWREASONER_DATA_DIR to a folder that has them.';

/** The path of `file` in `dataDir`, after checking that it is there. */
export async function requireDataFile(dataDir: string, file: string): Promise<string> {
  const p = path.join(dataDir, file);
  try {
    await access(p);
  } catch (e) {
    throw new PipelineError('data-missing', `${p}: benchmark file not found. ${MISSING_HINT}`, { hint: MISSING_HINT, cause: e });
  }
  return p;
}
