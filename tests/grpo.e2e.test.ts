// grpo end to end on the simulator with the reference consumer as trainer: steps committed once each, advantages that an
// independent reader recomputes from the reward column, metrics per step, and a kill -9 then --resume losing nothing.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { readAll } from '../pipeline/store/journal.ts';
import { repoRoot, sharedDatasets, tmpDir } from './helpers/tmp.ts';

function grpo(args: string[]): { done: Promise<{ code: number | null; stdout: string; stderr: string }>; kill: () => void } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'pipeline/cli/main.ts', 'grpo', ...args], {
    cwd: repoRoot,
    env: { ...process.env, FLOWREASONER_DATA_DIR: sharedDatasets },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return { done: new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr }))), kill: () => child.kill('SIGKILL') };
}

const FAST = ['--config', 'configs/demo.yaml', '--set', 'sim.latency.fixedMs=2', '--set', 'sim.latency.perTokenMs=0'];

/** Advantages from rewards, written here independently of grpo/advantages.ts: verl GRPO (unbiased std, eps 1e-6). */
function verlGrpo(rewards: Array<number | null>): number[] {
  const xs = rewards.filter((r): r is number => r !== null);
  if (xs.length === 0) return rewards.map(() => 0);
  if (xs.length === 1) return rewards.map((r) => (r === null ? 0 : r / (1 + 1e-6)));
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
  return rewards.map((r) => (r === null ? 0 : xs.every((x) => x === xs[0]) ? 0 : (r - m) / (sd + 1e-6)));
}

function committedSteps(root: string): number[] {
  const dir = path.join(root, 'rollouts');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((d) => /^step=\d+$/.test(d) && existsSync(path.join(dir, d, '_SUCCESS')))
    .map((d) => Number(d.slice(5)))
    .sort((a, b) => a - b);
}

describe('grpo', () => {
  it('runs 2 steps with the reference consumer, and its advantages recompute from the reward column', async () => {
    const out = path.join(await tmpDir(), 'g');
    const r = await grpo([...FAST, '--out', out, '--set', `cache.dir=${path.join(out, '..', 'cache')}`]).done;
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const root = path.join(out, 'exchange');
    expect(committedSteps(root)).toEqual([0, 1]);
    expect(readdirSync(path.join(root, 'acks')).sort()).toEqual(['step=000000.reference.json', 'step=000001.reference.json']);
    expect(JSON.parse(readFileSync(path.join(root, 'policy', 'current.json'), 'utf8')).version).toBe(2);
    const metrics = await readAll<{ step: number; rewardMean: number; components: Record<string, number>; filteredGroups: number; samplingS: number }>(path.join(out, 'grpo', 'metrics.jsonl'));
    expect(metrics.map((m) => m.step)).toEqual([0, 1]);
    for (const m of metrics) expect(Object.keys(m.components)).toEqual(expect.arrayContaining(['performance', 'complexity', 'efficiency', 'format']));
    let groups = 0;
    for (const step of [0, 1]) {
      const dir = path.join(root, 'rollouts', `step=${String(step).padStart(6, '0')}`);
      const manifest = JSON.parse(readFileSync(path.join(dir, '_MANIFEST.json'), 'utf8')) as { files: Array<{ name: string; rows: number }>; group_size: number; num_groups: number };
      const rows: Array<Record<string, unknown>> = [];
      for (const f of manifest.files) {
        const buf = readFileSync(path.join(dir, f.name));
        rows.push(...((await parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) })) as Array<Record<string, unknown>>));
      }
      const byGroup = new Map<string, Array<Record<string, unknown>>>();
      for (const row of rows) byGroup.set(String(row.group_id), [...(byGroup.get(String(row.group_id)) ?? []), row]);
      // DAPO may leave a batch short when refills run out; the manifest says how many groups there are.
      expect(byGroup.size).toBe(manifest.num_groups);
      expect(byGroup.size).toBeLessThanOrEqual(3);
      for (const [, g] of byGroup) {
        groups++;
        const samples = g.filter((x) => Number(x.segment_idx) === 0).sort((a, b) => Number(a.sample_idx) - Number(b.sample_idx));
        expect(samples).toHaveLength(manifest.group_size);
        const expected = verlGrpo(samples.map((x) => (x.reward === null ? null : Number(x.reward))));
        samples.forEach((x, i) => expect(Number(x.advantage)).toBeCloseTo(expected[i] as number, 9));
        // Token-exact: the loss mask marks exactly the sampled tokens, whose logprobs are kept.
        for (const x of samples) {
          const ids = x.input_ids as number[];
          const mask = x.loss_mask as number[];
          expect(mask).toHaveLength(ids.length);
          expect(mask.slice(0, Number(x.prompt_len)).every((v) => v === 0)).toBe(true);
        }
      }
    }
    expect(groups).toBeGreaterThan(0);
  }, 300_000);

  it('loses, duplicates and half-writes no step when killed and resumed', async () => {
    const out = path.join(await tmpDir(), 'gk');
    const args = [...FAST, '--set', 'grpo.steps=3', '--set', `cache.dir=${path.join(out, '..', 'cache')}`];
    const first = grpo([...args, '--out', out]);
    const root = path.join(out, 'exchange');
    for (let i = 0; i < 600 && committedSteps(root).length < 1; i++) await new Promise((r) => setTimeout(r, 100));
    first.kill();
    await first.done;
    const again = await grpo(['--resume', out]).done;
    expect(again.code, again.stderr.slice(-2000)).toBe(0);
    expect(committedSteps(root)).toEqual([0, 1, 2]);
    expect(readdirSync(path.join(root, 'rollouts')).filter((d) => d.endsWith('.tmp'))).toEqual([]);
    const metrics = await readAll<{ step: number }>(path.join(out, 'grpo', 'metrics.jsonl'));
    expect(metrics.map((m) => m.step)).toEqual([0, 1, 2]);
    // Every step acknowledged exactly once by the trainer stand-in, across both runs.
    expect(readdirSync(path.join(root, 'acks')).sort()).toEqual(['step=000000.reference.json', 'step=000001.reference.json', 'step=000002.reference.json']);
  }, 300_000);

  it('runs refine rollouts: each sample is a multi-round conversation with feedback turns', async () => {
    const out = path.join(await tmpDir(), 'gr');
    const r = await grpo([...FAST, '--out', out, '--set', 'grpo.mode=refine', '--set', 'grpo.steps=1', '--set', 'grpo.groupSize=2', '--set', 'grpo.batchSize=2', '--set', 'grpo.advantage.filter=none', '--set', `cache.dir=${path.join(out, '..', 'cache')}`]).done;
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const dir = path.join(out, 'exchange', 'rollouts', 'step=000000');
    const manifest = JSON.parse(readFileSync(path.join(dir, '_MANIFEST.json'), 'utf8')) as { files: Array<{ name: string }>; num_samples: number };
    expect(manifest.num_samples).toBe(4);
    const buf = readFileSync(path.join(dir, manifest.files[0]!.name));
    const rows = (await parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) })) as Array<Record<string, unknown>>;
    for (const row of rows) {
      expect(Number(row.num_turns)).toBe(2);
      const messages = JSON.parse(String(row.messages_json)) as Array<{ role: string; content: string }>;
      expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user', 'assistant']);
      expect(messages[3]!.content).toMatch(/public tests|could not be used/);
    }
  }, 300_000);

  it('fails fast naming the URL when the policy endpoint is down', async () => {
    const r = await grpo(['--config', 'configs/14b.yaml', '--out', path.join(await tmpDir(), 'down')], ).done;
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/OPENAI_API_KEY|127\.0\.0\.1:8000/);
  }, 60_000);
});
