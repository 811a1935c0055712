// Every file a run writes for trainers, loaded by the trainers' own readers (Hugging Face `datasets`, pyarrow with the
// exact types of trainer-contract.md §10.2–10.3): scripts/trainers/check_exports.py in the trainer venv.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { demoRun, runTrainerPython } from './helpers/trainer-python.ts';
import { repoRoot, tmpDir } from './helpers/tmp.ts';

interface FileResult {
  file: string;
  ok: boolean;
  rows?: number;
  problems: string[];
}

const CHECK = path.join(repoRoot, 'scripts', 'trainers', 'check_exports.py');

async function check(run: string): Promise<{ code: number | null; results: FileResult[]; stderr: string }> {
  const r = await runTrainerPython([CHECK, run, '--json'], { timeoutMs: 240_000 });
  const results = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as FileResult);
  return { code: r.code, results, stderr: r.stderr };
}

describe('the trainers read every file of a run as they are', () => {
  let run = '';
  beforeAll(async () => {
    // Both splits non-empty: validation queries in the SFT export, and a held-out prompt set beside the rollouts.
    run = await demoRun(['--set', 'sft.validationFraction=0.5', '--set', 'grpo.partition=train']);
  }, 300_000);

  it('loads each SFT file, RL prompt file and rollout part with datasets.load_dataset and the exact Arrow types', async () => {
    const { code, results, stderr } = await check(run);
    expect(results.filter((r) => !r.ok), stderr.slice(-3000)).toEqual([]);
    expect(code).toBe(0);
    const files = results.map((r) => r.file).sort();
    // Every data file on disk was checked: both splits where they have rows, both prompt sets, every committed part.
    const onDisk = (dir: string, rel: string): string[] =>
      readdirSync(path.join(run, dir, rel), { withFileTypes: true })
        .filter((e) => e.isFile() && /\.(jsonl|json|parquet)$/.test(e.name) && !['stats.json', 'dataset_info.json'].includes(e.name))
        .map((e) => path.posix.join(dir, rel, e.name).replace(/\/\.$/, ''));
    const expected = [...onDisk('sft', '.'), ...onDisk('sft', 'rl'), ...onDisk('exchange', 'datasets/rl')].map((f) => f.replace('/./', '/')).sort();
    for (const f of expected) expect(files, f).toContain(f);
    expect(expected).toContain('exchange/datasets/rl/val.parquet');
    expect(expected.some((f) => /^sft\/val\./.test(f)), 'a validation SFT file').toBe(true);
    expect(expected.some((f) => /^sft\/train\./.test(f)) || expected.includes('sft/rl/train.parquet'), 'a train file').toBe(true);
    const steps = readdirSync(path.join(run, 'exchange', 'rollouts')).filter((d) => existsSync(path.join(run, 'exchange', 'rollouts', d, '_SUCCESS')));
    expect(files.filter((f) => f.startsWith('exchange/rollouts/')).length).toBeGreaterThanOrEqual(steps.length);
    expect(results.every((r) => (r.rows ?? 0) > 0)).toBe(true);
  }, 300_000);

  it('fails, naming the file and the reader, on a 0-row Parquet file and on a map column', async () => {
    // A checker that cannot fail proves nothing: feed it the two shapes Hugging Face `datasets` rejects.
    const broken = path.join(await tmpDir(), 'broken');
    const bad = await runTrainerPython(
      [
        '-c',
        [
          'import os, sys, pyarrow as pa, pyarrow.parquet as pq',
          'root = sys.argv[1]',
          "os.makedirs(os.path.join(root, 'sft', 'rl'), exist_ok=True)",
          "pq.write_table(pa.table({'id': pa.array([], pa.string()), 'question': pa.array([], pa.string()), 'answer': pa.array([], pa.string())}), os.path.join(root, 'sft', 'val.verl-sft.parquet'))",
          "pq.write_table(pa.table({'m': pa.array([[('a', 1.0)]], pa.map_(pa.string(), pa.float64()))}), os.path.join(root, 'sft', 'rl', 'train.parquet'))",
        ].join('\n'),
        broken,
      ],
      { timeoutMs: 60_000 },
    );
    expect(bad.code, bad.stderr).toBe(0);
    const { code, results } = await check(broken);
    expect(code).toBe(1);
    const byFile = Object.fromEntries(results.map((r) => [r.file, r.problems.join('; ')]));
    expect(byFile['sft/val.verl-sft.parquet']).toMatch(/load_dataset failed|0 rows/);
    expect(byFile['sft/rl/train.parquet']).toMatch(/map<string, double|does not have a datasets dtype/);
  }, 120_000);

  it("parses the example TRL config (scripts/sft/trl-sft.yaml) with TRL's own parser: prompt/completion data, loss on the completion", async () => {
    const r = await runTrainerPython(
      [
        '-c',
        [
          'import json, sys',
          'from trl import TrlParser, SFTConfig, ModelConfig, ScriptArguments',
          'from trl.scripts.utils import DatasetMixtureConfig',
          'p = TrlParser((ScriptArguments, SFTConfig, ModelConfig, DatasetMixtureConfig))',
          "a = p.parse_args_and_config(['--config', 'scripts/sft/trl-sft.yaml', '--output_dir', sys.argv[1], '--bf16', 'false'])",
          "print(json.dumps({'completion_only_loss': a[1].completion_only_loss, 'files': [d.data_files for d in a[3].datasets], 'columns': [d.columns for d in a[3].datasets]}))",
        ].join('\n'),
        path.join(await tmpDir(), 'trl-out'),
      ],
      { timeoutMs: 120_000 },
    );
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}')).toEqual({
      completion_only_loss: true,
      files: ['runs/demo/sft/train.prompt-completion.jsonl'],
      columns: [['prompt', 'completion']],
    });
  }, 120_000);
});
