// Bad sample files for `evaluate`: strict UTF-8 per line, each invalid line named as file:line on stderr, exit 2, valid lines still judged.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSamples, type SampleLine } from '../pipeline/evaluate/evaluate-samples.ts';
import { runCli } from './helpers/cli.ts';
import { tmpDir } from './helpers/tmp.ts';

const cli = (args: string[]) => runCli(args);

const RIGHT = '    for i, a in enumerate(numbers):\n        for j, b in enumerate(numbers):\n            if i != j and abs(a - b) < threshold:\n                return True\n    return False\n';
const line = (v: unknown): Buffer => Buffer.from(`${JSON.stringify(v)}\n`);

describe('evaluate input lines', () => {
  it('reports invalid UTF-8 and bad JSON as file:line on stderr, exits 2, and still judges the valid lines', async () => {
    const dir = await tmpDir();
    const samples = path.join(dir, 'samples.jsonl');
    // Line 2 is a correct solution but for a 0xFF byte inside a comment: decoded leniently it would pass.
    const mangled = Buffer.concat([Buffer.from(`{"task_id": "HumanEval/0", "completion": ${JSON.stringify(RIGHT).slice(0, -1)}    # caf`), Buffer.from([0xff]), Buffer.from('\\n"}\n')]);
    await writeFile(samples, Buffer.concat([line({ task_id: 'HumanEval/0', completion: RIGHT, n: 1 }), mangled, Buffer.from('{not json\r\n'), Buffer.from('\n'), line({ task_id: 'HumanEval/0', completion: '    return False\n', n: 5 })]));
    const r = await cli(['evaluate', '--dataset', 'humaneval', '--ids', 'HumanEval/0', '--samples', samples, '--workers', '1']);
    expect(r.code, r.stderr).toBe(2);
    const reported = r.stderr.split('\n').filter((l) => l.startsWith(`${samples}:`));
    expect(reported).toEqual([`${samples}:2: not valid UTF-8`, expect.stringMatching(new RegExp(`^${samples.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: not JSON`))]);
    expect(r.stderr).not.toContain('\uFFFD');
    const rows = (await readFile(path.join(dir, 'samples_results.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((x) => [x.line ?? x.n, x.status])).toEqual([
      [1, 'pass'],
      [2, 'invalid'],
      [3, 'invalid'],
      [5, 'fail'],
    ]);
    expect(rows[1]!.result).toBe('invalid sample: not valid UTF-8');
    expect(JSON.stringify(rows)).not.toContain('\uFFFD');
  });

  it('reads lines longer than a read chunk and multi-byte characters across chunk boundaries', async () => {
    const dir = await tmpDir();
    const file = path.join(dir, 's.jsonl');
    const long = 'é'.repeat(100_001) + '😀'.repeat(30_001);
    await writeFile(file, Buffer.concat([line({ task_id: 'a', completion: long }), Buffer.from([0xc3, 0x0a]), line({ task_id: 'b', completion: 'ü' }).subarray(0, -1)]));
    const got: SampleLine[] = [];
    for await (const s of readSamples(file)) got.push(s);
    expect(got.map((s) => [s.line, s.raw?.task_id ?? null, s.error ?? null])).toEqual([
      [1, 'a', null],
      [2, null, 'not valid UTF-8'],
      [3, 'b', null],
    ]);
    expect(got[0]!.raw?.completion).toBe(long);
    expect(got[2]!.raw?.completion).toBe('ü');
  });
});
