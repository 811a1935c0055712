// Reads committed rollout steps the way a consumer must (§10.4): only `_SUCCESS` dirs, ascending, every file checked against the manifest.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ExchangeError } from './errors.ts';
import { checkGroups } from './group-integrity.ts';
import { exchangePaths, parseStepDirName } from './layout.ts';
import { parquetToRolloutRows } from './rollout-parquet.ts';
import { RolloutRowSchema, StepManifestSchema, type RolloutRow, type StepManifest, type StepPayload } from './schema.ts';

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/** Names in `rollouts/`, or none before the first step. */
export async function rolloutEntries(root: string): Promise<string[]> {
  try {
    return await readdir(exchangePaths.rollouts(root));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/**
 * Steps whose directory holds `_SUCCESS`, ascending. Temp dirs and dirs still missing `_SUCCESS` are not steps yet.
 * `known` holds steps already seen committed: a commit is never undone, so their `_SUCCESS` is not stat'ed again (a
 * long-poll calls this several times a second). New commits are added to it; deleted steps drop out with their dir.
 */
export async function listCommittedSteps(root: string, known?: Set<number>): Promise<number[]> {
  const names = await rolloutEntries(root);
  const steps: number[] = [];
  for (const name of names) {
    const step = parseStepDirName(name);
    if (step === null) continue;
    if (known?.has(step) === true || (await isFile(exchangePaths.success(path.join(exchangePaths.rollouts(root), name))))) {
      steps.push(step);
      known?.add(step);
    }
  }
  return steps.sort((a, b) => a - b);
}

export async function isStepCommitted(root: string, step: number): Promise<boolean> {
  return isFile(exchangePaths.success(exchangePaths.stepDir(root, step)));
}

/** The manifest of a committed step, schema-checked. */
export async function readStepManifest(root: string, step: number): Promise<StepManifest> {
  const dir = exchangePaths.stepDir(root, step);
  if (!(await isStepCommitted(root, step))) throw new ExchangeError('step-not-committed', `step ${step} is not committed (no ${exchangePaths.success(dir)})`);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(exchangePaths.manifest(dir), 'utf8'));
  } catch (e) {
    throw new ExchangeError('manifest-mismatch', `step ${step}: _MANIFEST.json is missing or not JSON`, { cause: e });
  }
  const parsed = StepManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ExchangeError('manifest-mismatch', `step ${step}: _MANIFEST.json ${issue === undefined ? 'is invalid' : `${issue.path.join('.')}: ${issue.message}`}`);
  }
  if (parsed.data.step !== step) throw new ExchangeError('manifest-mismatch', `step ${step}: _MANIFEST.json says step ${parsed.data.step}`);
  return parsed.data;
}

export interface StepContents {
  manifest: StepManifest;
  /** Every row, in manifest file order. */
  rows: RolloutRow[];
}

/**
 * Reads a committed step and verifies it end to end: each listed file's size and sha256, its Arrow schema and row count,
 * every row against the schema, run_id and step, then group integrity and the manifest's totals.
 * Files in the directory that the manifest does not list are ignored: the manifest is authoritative.
 */
export async function readStep(root: string, step: number): Promise<StepContents> {
  const manifest = await readStepManifest(root, step);
  const dir = exchangePaths.stepDir(root, step);
  const mismatch = (msg: string): never => {
    throw new ExchangeError('manifest-mismatch', `step ${step}: ${msg}`);
  };
  const rows: RolloutRow[] = [];
  for (const f of manifest.files) {
    let bytes: Buffer;
    try {
      bytes = await readFile(path.join(dir, f.name));
    } catch (e) {
      throw new ExchangeError('manifest-mismatch', `step ${step}: ${f.name} is listed in the manifest but cannot be read`, { cause: e });
    }
    if (bytes.byteLength !== f.bytes) mismatch(`${f.name} has ${bytes.byteLength} bytes, the manifest says ${f.bytes}`);
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (sha !== f.sha256) mismatch(`${f.name} sha256 is ${sha}, the manifest says ${f.sha256}`);
    const raw = parquetToRolloutRows(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), `step ${step}/${f.name}`);
    if (raw.length !== f.rows) mismatch(`${f.name} has ${raw.length} rows, the manifest says ${f.rows}`);
    raw.forEach((r, i) => {
      const parsed = RolloutRowSchema.safeParse(r);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        return mismatch(`${f.name} row ${i}: ${issue === undefined ? 'invalid' : `${issue.path.join('.')}: ${issue.message}`}`);
      }
      if (parsed.data.step !== step) mismatch(`${f.name} row ${i} has step ${parsed.data.step}`);
      if (parsed.data.run_id !== manifest.run_id) mismatch(`${f.name} row ${i} has run_id ${parsed.data.run_id}, the manifest ${manifest.run_id}`);
      rows.push(parsed.data);
    });
  }
  if (rows.length !== manifest.num_rows) mismatch(`${rows.length} rows in the files, the manifest says num_rows ${manifest.num_rows}`);
  const { groups, groupSize, numSamples } = checkGroups(rows, 'manifest-mismatch');
  if (groups.length !== manifest.num_groups) mismatch(`${groups.length} groups in the files, the manifest says num_groups ${manifest.num_groups}`);
  if (numSamples !== manifest.num_samples) mismatch(`${numSamples} samples in the files, the manifest says num_samples ${manifest.num_samples}`);
  if (groupSize !== manifest.group_size) mismatch(`groups have G = ${groupSize}, the manifest says group_size ${manifest.group_size}`);
  return { manifest, rows };
}

/** The JSON mirror served by `GET /v1/rollouts/next` (§10.6): rows grouped by group_id, in file order. */
export function toStepPayload(contents: StepContents): StepPayload {
  const { groups } = checkGroups(contents.rows, 'manifest-mismatch');
  return {
    step: contents.manifest.step,
    manifest: contents.manifest,
    groups: groups.map((g) => ({ group_id: g.group_id, group_size: g.group_size, prompt_uid: g.prompt_uid, data_source: g.data_source, samples: g.rows })),
  };
}

export async function readStepPayload(root: string, step: number): Promise<StepPayload> {
  return toStepPayload(await readStep(root, step));
}
