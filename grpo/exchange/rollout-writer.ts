// Commits one training batch as `rollouts/step=N/` (parts, _MANIFEST.json, then _SUCCESS): the producer side of §10.4.
import { rolloutEntries } from './rollout-reader.ts';
import { createHash } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ExchangeError } from './errors.ts';
import { checkGroups, type CheckedGroup } from './group-integrity.ts';
import { fsyncDir, writeFileSynced } from '../../pipeline/store/durable-fs.ts';
import { exchangePaths, parseStepTmpDirName, partFileName } from './layout.ts';
import { rolloutRowsToParquet } from './rollout-parquet.ts';
import {
  AdvantageRecordSchema,
  DroppedSchema,
  EXCHANGE_SCHEMA,
  ProducerSchema,
  RolloutRowInputSchema,
  StepManifestSchema,
  type AdvantageRecord,
  type Dropped,
  type ManifestFile,
  type Producer,
  type RolloutRow,
  type RolloutRowInput,
  type StepManifest,
} from './schema.ts';

/** The manifest fields the rows cannot tell. */
export interface StepExtras {
  run_id: string;
  /** Copy of run.json `advantage`: consumers recompute and check the advantages with it. */
  advantage: AdvantageRecord;
  dropped: Dropped;
  producer: Producer;
}

export interface WriteStepOptions {
  /** Cap on rows per part file (default 1024). A single group larger than the cap gets a part of its own: groups are never split. */
  maxRowsPerPart?: number;
  /** Clock for created_at (tests). */
  now?: () => Date;
}

const StepExtrasSchema = z.strictObject({
  run_id: z.string().min(1),
  advantage: AdvantageRecordSchema,
  dropped: DroppedSchema,
  producer: ProducerSchema,
});

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

function validateRows(step: number, runId: string, rows: readonly RolloutRowInput[]): RolloutRow[] {
  return rows.map((input, i) => {
    const parsed = RolloutRowInputSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ExchangeError('invalid-rows', `row ${i}: ${issue === undefined ? 'invalid' : `${issue.path.join('.') || '(row)'}: ${issue.message}`}`);
    }
    const r = parsed.data;
    if (r.step !== undefined && r.step !== step) throw new ExchangeError('invalid-rows', `row ${i}: step ${r.step} in a batch written as step ${step}`);
    if (r.run_id !== undefined && r.run_id !== runId) throw new ExchangeError('invalid-rows', `row ${i}: run_id ${r.run_id} in a batch of run ${runId}`);
    return { ...r, run_id: runId, step };
  });
}

/** Packs whole groups, in order, into parts of at most `cap` rows. */
function packParts(groups: ReadonlyArray<CheckedGroup<RolloutRow>>, cap: number): RolloutRow[][] {
  const parts: RolloutRow[][] = [];
  let cur: RolloutRow[] = [];
  for (const g of groups) {
    if (cur.length > 0 && cur.length + g.rows.length > cap) {
      parts.push(cur);
      cur = [];
    }
    cur.push(...g.rows);
  }
  if (cur.length > 0) parts.push(cur);
  return parts;
}

function sampleAdvantageStats(groups: ReadonlyArray<CheckedGroup<RolloutRow>>): { mean: number; std: number } {
  // One value per sample: segments repeat their sample's advantage and would weight long conversations more.
  const values = groups.flatMap((g) => g.rows.filter((r) => r.segment_idx === 0).map((r) => r.advantage));
  if (values.length === 0) return { mean: 0, std: 0 };
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length;
  return { mean, std: Math.sqrt(variance) };
}

/**
 * Writes `rollouts/step=N.tmp/` (parts, then the manifest), fsyncs, renames it to `step=N/`, then writes `_SUCCESS` last,
 * which is the commit signal consumers look for (§10.4). A committed step is immutable: writing it again throws
 * `step-exists`. A `step=N/` without `_SUCCESS` (a crash after the rename) was never visible to consumers and is
 * replaced, as is a stale `step=N.tmp/`.
 */
export async function writeStep(
  root: string,
  step: number,
  rows: readonly RolloutRowInput[],
  extras: StepExtras,
  opts: WriteStepOptions = {},
): Promise<StepManifest> {
  if (!Number.isSafeInteger(step) || step < 0) throw new ExchangeError('invalid-rows', `step must be a non-negative integer, got ${step}`);
  const cap = opts.maxRowsPerPart ?? 1024;
  if (!Number.isInteger(cap) || cap < 1) throw new ExchangeError('invalid-rows', `maxRowsPerPart must be a positive integer, got ${cap}`);
  const ex = StepExtrasSchema.safeParse(extras);
  if (!ex.success) throw new ExchangeError('invalid-rows', `manifest extras: ${ex.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  if (rows.length === 0) throw new ExchangeError('invalid-rows', `step ${step} has no rows; a committed step holds at least one group`);

  const valid = validateRows(step, ex.data.run_id, rows);
  const { groups, groupSize, numSamples } = checkGroups(valid, 'invalid-rows');
  const parts = packParts(groups, cap);

  const rolloutsDir = exchangePaths.rollouts(root);
  const finalDir = exchangePaths.stepDir(root, step);
  const tmpDir = exchangePaths.stepTmpDir(root, step);
  await mkdir(rolloutsDir, { recursive: true });
  if (await exists(finalDir)) {
    if (await exists(exchangePaths.success(finalDir))) {
      throw new ExchangeError('step-exists', `step ${step} is already committed at ${finalDir}; step directories are immutable`, {
        hint: 'Write the next step number instead.',
      });
    }
    await rm(finalDir, { recursive: true, force: true });
  }
  await rm(tmpDir, { recursive: true, force: true });
  await mkdir(tmpDir);

  const files: ManifestFile[] = [];
  for (const [i, partRows] of parts.entries()) {
    const name = partFileName(i);
    const bytes = rolloutRowsToParquet(partRows);
    await writeFileSynced(path.join(tmpDir, name), bytes);
    files.push({ name, rows: partRows.length, bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') });
  }

  const manifest: StepManifest = StepManifestSchema.parse({
    schema: EXCHANGE_SCHEMA,
    run_id: ex.data.run_id,
    step,
    created_at: (opts.now?.() ?? new Date()).toISOString(),
    files,
    num_groups: groups.length,
    num_samples: numSamples,
    num_rows: valid.length,
    group_size: groupSize,
    // reduce, not Math.min(...rows): spreading a large step would overflow the call stack.
    policy_version_min: valid.reduce((m, r) => Math.min(m, r.policy_version_start), Infinity),
    policy_version_max: valid.reduce((m, r) => Math.max(m, r.policy_version_end), -Infinity),
    advantage: ex.data.advantage,
    advantage_stats: sampleAdvantageStats(groups),
    dropped: ex.data.dropped,
    producer: ex.data.producer,
  });
  await writeFileSynced(exchangePaths.manifest(tmpDir), `${JSON.stringify(manifest, null, 2)}\n`);
  await fsyncDir(tmpDir);

  try {
    await rename(tmpDir, finalDir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // Another writer committed the same step between our check and the rename (rename onto a non-empty dir fails).
    if (code === 'ENOTEMPTY' || code === 'EEXIST') {
      await rm(tmpDir, { recursive: true, force: true });
      throw new ExchangeError('step-exists', `step ${step} was committed by another writer while this one was writing`, { cause: e });
    }
    throw e;
  }
  await fsyncDir(rolloutsDir);
  await writeFileSynced(exchangePaths.success(finalDir), '');
  await fsyncDir(finalDir);
  return manifest;
}

/** Removes every `step=N.tmp/` left by a crashed writer; call once at producer start-up. Returns the steps cleaned. */
export async function removeStaleStepTmpDirs(root: string): Promise<number[]> {
  const names = await rolloutEntries(root);
  const cleaned: number[] = [];
  for (const name of names) {
    const step = parseStepTmpDirName(name);
    if (step === null) continue;
    await rm(path.join(exchangePaths.rollouts(root), name), { recursive: true, force: true });
    cleaned.push(step);
  }
  return cleaned.sort((a, b) => a - b);
}
