// `<run_root>/run.json`: the immutable run manifest every consumer reads first (trainer-contract.md §10.1).
import { mkdir, readFile } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import { writeFileAtomic } from '../../pipeline/store/atomic-write.ts';
import { ExchangeError } from './errors.ts';
import { exchangePaths } from './layout.ts';
import { RunManifestSchema, type RunManifest } from './schema.ts';

/** The run.json of `root`, or null when none has been written. A file that does not parse is an error, not "absent". */
export async function readRunManifest(root: string): Promise<RunManifest | null> {
  let text: string;
  try {
    text = await readFile(exchangePaths.runJson(root), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ExchangeError('run-conflict', `${exchangePaths.runJson(root)} is not JSON`, { cause: e });
  }
  const parsed = RunManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ExchangeError('run-conflict', `${exchangePaths.runJson(root)}: ${issue === undefined ? 'invalid' : `${issue.path.join('.')}: ${issue.message}`}`);
  }
  return parsed.data;
}

/**
 * Writes run.json once. Writing the same content again (a resumed producer) is a no-op; different content throws
 * `run-conflict`, because trainers may already have configured themselves from the first one.
 */
export async function writeRunManifest(root: string, run: RunManifest): Promise<void> {
  const valid = RunManifestSchema.parse(run);
  const existing = await readRunManifest(root);
  if (existing !== null) {
    if (isDeepStrictEqual(existing, valid)) return;
    throw new ExchangeError('run-conflict', `${exchangePaths.runJson(root)} already exists with different content; run.json is immutable`, {
      hint: 'Start a new run root for different settings.',
    });
  }
  await mkdir(root, { recursive: true });
  await writeFileAtomic(exchangePaths.runJson(root), `${JSON.stringify(valid, null, 2)}\n`);
}
