// grpo-exchange/v1 on disk: committed steps read back by hyparquet and DuckDB with exact nested types, immutability, crash recovery, acks, policy.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetMetadata, parquetReadObjects, parquetSchema, type SchemaTree } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { Rng } from '../pipeline/random.ts';
import { isStepFullyAcked, readAck, unackedSteps, writeAck } from '../grpo/exchange/acks.ts';
import { isExchangeError } from '../grpo/exchange/errors.ts';
import { exchangePaths } from '../grpo/exchange/layout.ts';
import { publishPolicy, readPolicy, readPolicyHistory, waitForPolicyVersion } from '../grpo/exchange/policy-store.ts';
import { listCommittedSteps, readStep, readStepPayload } from '../grpo/exchange/rollout-reader.ts';
import { removeStaleStepTmpDirs, writeStep, type StepExtras } from '../grpo/exchange/rollout-writer.ts';
import { readRunManifest, writeRunManifest } from '../grpo/exchange/run-manifest.ts';
import type { AdvantageRecord, RolloutRowInput, RunManifest } from '../grpo/exchange/schema.ts';
import { repoRoot, tmpDir } from './helpers/tmp.ts';

// ---- fixtures: realistic rows whose advantages come from the golden file, not from any of our code ----

type Golden = Record<string, Record<string, unknown>>;
const golden = JSON.parse(await readFile(path.resolve(repoRoot, '..', 'shared', 'design', 'golden-advantages.json'), 'utf8')) as Golden;
const goldenRewards = (g: string): number[] => golden[g]?.rewards as number[];
const goldenAdv = (g: string, key: string): number[] => golden[g]?.[key] as number[];
const VERL = 'verl_grpo(eps=1e-6, unbiased std)';
const VERL_SETTINGS: AdvantageRecord = { estimator: 'grpo', std: 'unbiased', eps: 1e-6, scale: 'group', filter: 'none', singleton: 'verl' };

interface GroupSpec {
  id: string;
  rewards: Array<number | null>;
  advantages: number[];
  /** Samples that get a second, non-prefix segment. */
  segmented?: number[];
  version?: number;
}

/** Token-exact rows like the sampler emits: system+user prompt, a sampled reply, an env feedback turn, another reply. */
function groupRows(g: GroupSpec, seed = 1): RolloutRowInput[] {
  const rng = new Rng('exchange-fixture', g.id, seed);
  const ids = (n: number): number[] => Array.from({ length: n }, () => rng.int(151_000));
  const rows: RolloutRowInput[] = [];
  g.rewards.forEach((reward, sampleIdx) => {
    const segments = g.segmented?.includes(sampleIdx) === true ? 2 : 1;
    for (let seg = 0; seg < segments; seg++) {
      const prompt = ids(12 + rng.int(20));
      const reply = ids(5 + rng.int(30));
      const env = ids(3 + rng.int(4));
      const reply2 = ids(2 + rng.int(10));
      const input_ids = [...prompt, ...reply, ...env, ...reply2];
      const loss_mask = [...prompt.map(() => 0), ...reply.map(() => 1), ...env.map(() => 0), ...reply2.map(() => 1)];
      const logprobs = loss_mask.map((m) => (m === 1 ? -rng.next() * 4 : 0));
      const finish = rng.chance(0.25) ? 'length' : 'stop';
      const version = g.version ?? 7;
      rows.push({
        group_id: g.id,
        group_size: g.rewards.length,
        sample_idx: sampleIdx,
        segment_idx: seg,
        prompt_uid: `bcb/${g.id}`,
        data_source: 'bigcodebench',
        input_ids,
        loss_mask,
        logprobs,
        prompt_len: prompt.length,
        reward,
        reward_components: { performance: reward ?? 0, complexity: 0.25 * sampleIdx, efficiency: 0, diversity: 0, format: 0 },
        advantage: g.advantages[sampleIdx] as number,
        policy_version_start: version,
        policy_version_end: version + (sampleIdx % 2),
        served_model: `policy@${version}`,
        finish_reason: finish,
        truncated: finish === 'length',
        num_turns: 2,
        messages_json: JSON.stringify([
          { role: 'system', content: 'You design workflows.' },
          { role: 'user', content: `Task ${g.id}` },
          { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'run_tests', arguments: { n: 3 } } }] },
          { role: 'tool', name: 'run_tests', content: '2/3 passed' },
          { role: 'assistant', content: '```python\nclass Workflow: ...\n```' },
        ]),
        tools_json: sampleIdx === 0 ? JSON.stringify([{ type: 'function', function: { name: 'run_tests', parameters: { type: 'object' } } }]) : null,
        sampling_json: JSON.stringify({ temperature: 1, top_p: 1, max_tokens: 2048 }),
        metrics_json: JSON.stringify({ status: 'ok', wall_s: 1.5 }),
      });
    }
  });
  return rows;
}

const extras = (advantage: AdvantageRecord = VERL_SETTINGS): StepExtras => ({
  run_id: 'run-test',
  advantage,
  dropped: { all_equal_groups: 0, unscorable_samples: 0 },
  producer: { name: 'ts-orchestrator', version: 'test' },
});

/** Golden groups A, B, C (G = 4) under verl settings; A has a second segment on sample 2. */
function verlStepRows(): RolloutRowInput[] {
  return [
    ...groupRows({ id: 'gA', rewards: goldenRewards('A_one_correct_of_4'), advantages: goldenAdv('A_one_correct_of_4', VERL), segmented: [2] }),
    ...groupRows({ id: 'gB', rewards: goldenRewards('B_all_equal_4'), advantages: goldenAdv('B_all_equal_4', VERL), version: 6 }),
    ...groupRows({ id: 'gC', rewards: goldenRewards('C_graded_4'), advantages: goldenAdv('C_graded_4', VERL) }),
  ];
}

// ---- an advantage recomputation of the test's own, independent of grpo/advantages.ts ----

function independentAdvantages(rewards: number[], s: AdvantageRecord): number[] {
  const n = rewards.length;
  const mean = rewards.reduce((a, b) => a + b, 0) / n;
  const ss = rewards.reduce((a, r) => a + (r - mean) ** 2, 0);
  const sd = s.std === 'unbiased' ? Math.sqrt(ss / (n - 1)) : Math.sqrt(ss / n);
  if (s.estimator === 'rloo') return rewards.map((r) => r - (mean * n - r) / (n - 1));
  if (s.estimator === 'dr_grpo' || s.scale === 'none') return rewards.map((r) => r - mean);
  return rewards.map((r) => (r - mean) / (sd + s.eps));
}

const closeTo = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return isExchangeError(e) ? e.reason : String(e);
  }
}

function leafOf(tree: SchemaTree, name: string): SchemaTree {
  const col = tree.children.find((c) => c.element.name === name);
  if (col === undefined) throw new Error(`no column ${name}`);
  return col;
}

// ---- tests ----

describe('rollout steps on disk', () => {
  it('commits a step whose parquet hyparquet reads with nested list/map types and identical values', async () => {
    const root = await tmpDir();
    const rows = verlStepRows();
    const manifest = await writeStep(root, 42, rows, extras());
    const dir = exchangePaths.stepDir(root, 42);
    expect(dir.endsWith(path.join('rollouts', 'step=000042'))).toBe(true);
    expect((await readdir(dir)).sort()).toEqual(['_MANIFEST.json', '_SUCCESS', 'part-00000.parquet']);
    expect((await stat(exchangePaths.success(dir))).size).toBe(0);
    expect(manifest).toMatchObject({ schema: 'grpo-exchange/v1', run_id: 'run-test', step: 42, num_groups: 3, num_samples: 12, num_rows: 13, group_size: 4, policy_version_min: 6, policy_version_max: 8 });
    expect(manifest.advantage).toEqual(VERL_SETTINGS);

    const bytes = await readFile(path.join(dir, 'part-00000.parquet'));
    expect(manifest.files[0]).toEqual({ name: 'part-00000.parquet', rows: 13, bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') });
    const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const tree = parquetSchema(parquetMetadata(ab));
    // Physical/logical types as a Python reader sees them: real LIST groups and a struct, never strings or a MAP.
    const ids = leafOf(tree, 'input_ids');
    expect(ids.element.logical_type?.type).toBe('LIST');
    expect(ids.children[0]?.children[0]?.element.type).toBe('INT32');
    const mask = leafOf(tree, 'loss_mask').children[0]?.children[0]?.element;
    expect(mask?.type).toBe('INT32');
    expect(mask?.logical_type).toMatchObject({ type: 'INTEGER', bitWidth: 8 });
    expect(leafOf(tree, 'logprobs').children[0]?.children[0]?.element.type).toBe('FLOAT');
    const rc = leafOf(tree, 'reward_components');
    expect(rc.element.logical_type).toBeUndefined();
    expect(rc.children.map((c) => [c.element.name, c.element.type, c.element.repetition_type])).toEqual(
      ['performance', 'complexity', 'efficiency', 'diversity', 'format'].map((n) => [n, 'DOUBLE', 'REQUIRED']),
    );
    expect(leafOf(tree, 'segment_idx').element.logical_type).toMatchObject({ type: 'INTEGER', bitWidth: 16 });
    expect(leafOf(tree, 'step').element.type).toBe('INT64');
    expect(leafOf(tree, 'truncated').element.type).toBe('BOOLEAN');
    expect(leafOf(tree, 'reward').element).toMatchObject({ type: 'DOUBLE', repetition_type: 'OPTIONAL' });
    expect(leafOf(tree, 'advantage').element).toMatchObject({ type: 'DOUBLE', repetition_type: 'REQUIRED' });

    const back = (await parquetReadObjects({ file: ab })) as Array<Record<string, unknown>>;
    expect(back).toHaveLength(13);
    // Stored in group order, sample then segment order within a group.
    const order = back.map((r) => `${String(r.group_id)}:${String(r.sample_idx)}:${String(r.segment_idx)}`);
    expect(order.slice(0, 5)).toEqual(['gA:0:0', 'gA:1:0', 'gA:2:0', 'gA:2:1', 'gA:3:0']);
    for (const r of back) {
      const src = rows.find((x) => x.group_id === r.group_id && x.sample_idx === r.sample_idx && x.segment_idx === r.segment_idx);
      if (src === undefined) throw new Error('row not found');
      expect(r.step).toBe(42n);
      expect(r.run_id).toBe('run-test');
      expect(r.input_ids).toEqual(src.input_ids);
      expect(r.loss_mask).toEqual(src.loss_mask);
      expect(r.logprobs).toEqual(src.logprobs.map((x) => Math.fround(x)));
      expect(r.reward).toBe(src.reward);
      expect(r.reward_components).toEqual(src.reward_components);
      expect(r.advantage).toBe(src.advantage);
      expect(r.policy_version_start).toBe(BigInt(src.policy_version_start));
      expect(r.tools_json).toBe(src.tools_json);
      expect(r.truncated).toBe(src.truncated);
      expect(JSON.parse(r.messages_json as string)[2].tool_calls[0].function.arguments).toEqual({ n: 3 });
    }
  });

  it('reads back in DuckDB with list/struct column types, and the advantage column matches an independent recomputation from the reward column', async () => {
    const root = await tmpDir();
    await writeStep(root, 3, verlStepRows(), extras());
    const glob = path.join(exchangePaths.stepDir(root, 3), 'part-*.parquet').replaceAll("'", "''");
    // hive_partitioning off: DuckDB would otherwise read `step=000003/` as a partition and replace the int64 `step`
    // column with the VARCHAR '000003' (the README tells consumers the same).
    const src = `read_parquet('${glob}', hive_partitioning = false)`;
    const db = await DuckDBInstance.create(':memory:');
    const con = await db.connect();
    try {
      const described = (await con.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`)).getRowObjectsJson();
      const types = Object.fromEntries(described.map((r) => [String(r.column_name), String(r.column_type)]));
      expect(types).toMatchObject({
        run_id: 'VARCHAR',
        step: 'BIGINT',
        group_size: 'INTEGER',
        sample_idx: 'INTEGER',
        segment_idx: 'SMALLINT',
        input_ids: 'INTEGER[]',
        loss_mask: 'TINYINT[]',
        logprobs: 'FLOAT[]',
        prompt_len: 'INTEGER',
        reward: 'DOUBLE',
        reward_components: 'STRUCT(performance DOUBLE, complexity DOUBLE, efficiency DOUBLE, diversity DOUBLE, format DOUBLE)',
        advantage: 'DOUBLE',
        policy_version_start: 'BIGINT',
        truncated: 'BOOLEAN',
        num_turns: 'INTEGER',
        tools_json: 'VARCHAR',
      });
      const rows = (
        await con.runAndReadAll(
          `SELECT group_id, sample_idx, reward, advantage, len(input_ids) AS n, list_sum(loss_mask) AS trained, reward_components.performance AS pass_rate
           FROM ${src} WHERE segment_idx = 0 ORDER BY group_id, sample_idx`,
        )
      ).getRowObjectsJson();
      expect(rows).toHaveLength(12);
      for (const gid of ['gA', 'gB', 'gC']) {
        const g = rows.filter((r) => r.group_id === gid);
        const rewards = g.map((r) => Number(r.reward));
        const want = independentAdvantages(rewards, VERL_SETTINGS);
        g.forEach((r, i) => expect(closeTo(Number(r.advantage), want[i] as number)).toBe(true));
        g.forEach((r) => expect(Number(r.pass_rate)).toBe(Number(r.reward)));
      }
      expect(rows.every((r) => Number(r.trained) > 0 && Number(r.trained) < Number(r.n))).toBe(true);
    } finally {
      con.closeSync();
      db.closeSync();
    }
  });

  it('splits a step into parts of at most N rows without splitting a group, and the reader verifies every part', async () => {
    const root = await tmpDir();
    const settings: AdvantageRecord = { estimator: 'grpo', std: 'unbiased', eps: 1e-6, scale: 'group', filter: 'none', singleton: 'zero' };
    const rows = [
      ...groupRows({ id: 'g1', rewards: [1, 0], advantages: independentAdvantages([1, 0], settings) }),
      ...groupRows({ id: 'g2', rewards: [0, 1], advantages: independentAdvantages([0, 1], settings), segmented: [0, 1] }),
      ...groupRows({ id: 'g3', rewards: [1, 1], advantages: independentAdvantages([1, 1], settings) }),
      // One scored sample and singleton 'zero': both advantages are 0.
      ...groupRows({ id: 'g4', rewards: [null, 1], advantages: [0, 0] }),
    ];
    const m = await writeStep(root, 5, rows, extras(settings), { maxRowsPerPart: 3 });
    // g2 has 4 rows (> 3): it gets a part of its own rather than being split.
    expect(m.files.map((f) => f.rows)).toEqual([2, 4, 2, 2]);
    expect(m.files.map((f) => f.name)).toEqual(['part-00000.parquet', 'part-00001.parquet', 'part-00002.parquet', 'part-00003.parquet']);
    const { rows: back } = await readStep(root, 5);
    expect(back).toHaveLength(10);
    expect(back.find((r) => r.group_id === 'g4' && r.sample_idx === 0)?.reward).toBeNull();
    const payload = await readStepPayload(root, 5);
    expect(payload.groups.map((g) => [g.group_id, g.samples.length])).toEqual([
      ['g1', 2],
      ['g2', 4],
      ['g3', 2],
      ['g4', 2],
    ]);
    expect(payload.manifest.advantage_stats.mean).toBeCloseTo(0, 12);
  });

  it('refuses to overwrite a committed step and leaves it untouched', async () => {
    const root = await tmpDir();
    const m = await writeStep(root, 1, verlStepRows(), extras());
    const before = await readFile(path.join(exchangePaths.stepDir(root, 1), 'part-00000.parquet'));
    expect(await codeOf(writeStep(root, 1, verlStepRows(), extras()))).toBe('step-exists');
    expect(await readFile(path.join(exchangePaths.stepDir(root, 1), 'part-00000.parquet'))).toEqual(before);
    expect((await readStep(root, 1)).manifest).toEqual(m);
  });

  it('removes a stale step=N.tmp left by a crashed writer, and readers never list it', async () => {
    const root = await tmpDir();
    const tmp = exchangePaths.stepTmpDir(root, 7);
    await mkdir(tmp, { recursive: true });
    await writeFile(path.join(tmp, 'part-00000.parquet'), 'half a file');
    await mkdir(exchangePaths.stepTmpDir(root, 8));
    expect(await listCommittedSteps(root)).toEqual([]);
    await writeStep(root, 7, verlStepRows(), extras());
    expect(await listCommittedSteps(root)).toEqual([7]);
    expect((await readdir(exchangePaths.rollouts(root))).sort()).toEqual(['step=000007', 'step=000008.tmp']);
    expect(await removeStaleStepTmpDirs(root)).toEqual([8]);
    expect(await readdir(exchangePaths.rollouts(root))).toEqual(['step=000007']);
  });

  it('ignores a step renamed into place but missing _SUCCESS (crash before the commit signal), and a rewrite commits it', async () => {
    const root = await tmpDir();
    await writeStep(root, 1, verlStepRows(), extras());
    await writeStep(root, 2, verlStepRows(), extras());
    await unlink(exchangePaths.success(exchangePaths.stepDir(root, 2)));
    expect(await listCommittedSteps(root)).toEqual([1]);
    expect(await codeOf(readStep(root, 2))).toBe('step-not-committed');
    expect(await unackedSteps(root, 'trl')).toEqual([1]);
    await writeStep(root, 2, verlStepRows(), extras());
    expect(await listCommittedSteps(root)).toEqual([1, 2]);
  });

  it('lists committed steps in numeric order', async () => {
    const root = await tmpDir();
    for (const s of [10, 2, 1_000_000]) await writeStep(root, s, verlStepRows(), extras());
    expect(await listCommittedSteps(root)).toEqual([2, 10, 1_000_000]);
  });

  it('detects a part file or manifest that no longer matches', async () => {
    const root = await tmpDir();
    await writeStep(root, 1, verlStepRows(), extras());
    await writeStep(root, 2, verlStepRows(), extras());
    const part = path.join(exchangePaths.stepDir(root, 1), 'part-00000.parquet');
    const bytes = await readFile(part);
    bytes[100] = (bytes[100] ?? 0) ^ 0xff;
    await writeFile(part, bytes);
    expect(await codeOf(readStep(root, 1))).toBe('manifest-mismatch');
    const mf = exchangePaths.manifest(exchangePaths.stepDir(root, 2));
    const manifest = JSON.parse(await readFile(mf, 'utf8'));
    manifest.num_groups = 4;
    await writeFile(mf, JSON.stringify(manifest));
    expect(await codeOf(readStep(root, 2))).toBe('manifest-mismatch');
  });

  it('rejects rows that break the contract before writing anything', async () => {
    const root = await tmpDir();
    const good = verlStepRows();
    const cases: Array<[string, RolloutRowInput[]]> = [
      ['a group missing a sample', good.filter((r) => !(r.group_id === 'gC' && r.sample_idx === 3))],
      ['a logprob outside the loss mask', good.map((r, i) => (i === 0 ? { ...r, logprobs: r.logprobs.map((x, k) => (k === 0 ? -1 : x)) } : r))],
      ['a row from another step', good.map((r, i) => (i === 0 ? { ...r, step: 9 } : r))],
      ['an unscorable sample with an advantage', good.map((r, i) => (i === 0 ? { ...r, reward: null } : r))],
      ['segments that disagree on the advantage', good.map((r) => (r.group_id === 'gA' && r.sample_idx === 2 && r.segment_idx === 1 ? { ...r, advantage: 5 } : r))],
      ['groups of different sizes', [...good, ...groupRows({ id: 'gX', rewards: [1, 0], advantages: [0.7, -0.7] })]],
      ['token columns of different lengths', good.map((r, i) => (i === 0 ? { ...r, loss_mask: r.loss_mask.slice(1) } : r))],
      ['no rows', []],
    ];
    for (const [why, rows] of cases) {
      expect(await codeOf(writeStep(root, 1, rows, extras())), why).toBe('invalid-rows');
    }
    expect(await listCommittedSteps(root)).toEqual([]);
  });
});

describe('run.json, acks and policy', () => {
  const run: RunManifest = {
    schema: 'grpo-exchange/v1',
    run_id: 'run-test',
    base_model: 'Qwen/Qwen2.5-7B-Instruct',
    tokenizer_revision: 'a09a3545',
    chat_template_sha256: 'a'.repeat(64),
    group_size: 4,
    advantage: VERL_SETTINGS,
    created_at: '2026-01-02T03:04:05.000Z',
  };

  it('writes run.json once; the same content again is a no-op, different content is refused', async () => {
    const root = await tmpDir();
    expect(await readRunManifest(root)).toBeNull();
    await writeRunManifest(root, run);
    await writeRunManifest(root, run);
    expect(await readRunManifest(root)).toEqual(run);
    expect(await codeOf(writeRunManifest(root, { ...run, group_size: 8 }))).toBe('run-conflict');
  });

  it('writes each ack once, tracks unacked steps per consumer and whether every registered consumer acked', async () => {
    const root = await tmpDir();
    for (const s of [1, 2, 3]) await writeStep(root, s, verlStepRows(), extras());
    const ack = { consumer: 'trl', step: 1, status: 'trained' as const, consumed_at: new Date().toISOString(), trained_policy_version: 8, rows_used: 13, rows_dropped: 0, metrics: { loss: 0.5 } };
    const results = await Promise.all([writeAck(root, ack), writeAck(root, { ...ack, metrics: { loss: 0.7 } })]);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect((await readAck(root, 1, 'trl'))?.metrics).toEqual(results.find((r) => r.created)?.ack.metrics);
    expect(await codeOf(writeAck(root, { ...ack, status: 'dropped' }))).toBe('ack-conflict');
    expect(await readdir(exchangePaths.acks(root))).toEqual(['step=000001.trl.json']);
    expect(await unackedSteps(root, 'trl')).toEqual([2, 3]);
    expect(await unackedSteps(root, 'verl')).toEqual([1, 2, 3]);
    expect(await isStepFullyAcked(root, 1, ['trl', 'verl'])).toBe(false);
    await writeAck(root, { ...ack, consumer: 'verl' });
    expect(await isStepFullyAcked(root, 1, ['trl', 'verl'])).toBe(true);
    expect(await isStepFullyAcked(root, 1, [])).toBe(false);
  });

  it('keeps policy versions monotonic, journals every change, and wakes a waiter when the version arrives', async () => {
    const root = await tmpDir();
    expect(await readPolicy(root)).toBeNull();
    await publishPolicy(root, { version: 0, served_model: 'policy@0', source: 'disk' });
    const waiter = waitForPolicyVersion(root, 2, { pollMs: 10 });
    await publishPolicy(root, { version: 1, served_model: 'policy@1', source: 'lora', path: '/ckpt/1', synced_at: '2026-01-01T00:00:00Z' });
    expect((await publishPolicy(root, { version: 1, served_model: 'policy@1', source: 'lora', path: '/ckpt/1' })).changed).toBe(false);
    expect(await codeOf(publishPolicy(root, { version: 0, served_model: 'policy@0', source: 'disk' }))).toBe('version-conflict');
    expect(await codeOf(publishPolicy(root, { version: 1, served_model: 'other', source: 'disk' }))).toBe('version-conflict');
    await publishPolicy(root, { version: 2, served_model: 'policy@2', source: 'nccl' });
    expect((await waiter).version).toBe(2);
    expect((await readPolicy(root))?.served_model).toBe('policy@2');
    expect((await readPolicyHistory(root)).map((h) => [h.version, h.synced_at ?? null])).toEqual([
      [0, null],
      [1, '2026-01-01T00:00:00Z'],
      [2, null],
    ]);
    const ctl = new AbortController();
    const never = waitForPolicyVersion(root, 99, { pollMs: 10, signal: ctl.signal });
    ctl.abort();
    await expect(never).rejects.toMatchObject({ code: 'aborted' });
    await expect(waitForPolicyVersion(root, 99, { pollMs: 5, timeoutMs: 30 })).rejects.toMatchObject({ code: 'timeout' });
  });
});
