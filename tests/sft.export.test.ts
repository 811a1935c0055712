// The sft export end to end on a real simulator distill run: round trip to traces, Parquet types, no leaks, CLI behaviour.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parquetMetadata, parquetReadObjects, parquetSchema, type SchemaTree } from 'hyparquet';
import { DuckDBInstance } from '@duckdb/node-api';
import { readAll } from '../pipeline/store/journal.ts';
import { parseReply } from '../pipeline/workflow/reply.ts';
import { loadBenchmark } from '../datasets/registry.ts';
import type { RoundRecord, TraceRecord } from '../distill/records.ts';
import { SftSchema } from '../sft/config-schema.ts';
import { runSft, type SftStats } from '../sft/run-sft.ts';
import { main } from '../pipeline/cli/main.ts';
import { repoRoot, sharedDatasets, tmpDir } from './helpers/tmp.ts';

const SECRET = `sk-planted-${randomBytes(12).toString('hex')}`;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'pipeline/cli/main.ts', ...args], {
      cwd: repoRoot,
      env: { ...process.env, FLOWREASONER_DATA_DIR: sharedDatasets, FR_SFT_PLANTED: SECRET },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

type Row = Record<string, unknown>;
type Msg = { role: string; content: string; reasoning_content?: string | null };

/** The command line in this process (cheaper than a spawn), with what it wrote. */
async function inProcess(args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((c: string | Uint8Array) => ((stdout += c.toString()), true)) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => ((stderr += c.toString()), true)) as typeof process.stderr.write;
  try {
    const code = await main(['node', 'flowreasoner', ...args]);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    process.exitCode = undefined;
  }
}

/** Rows of a split's file; an empty split has no file at all (sft never writes 0-row files), so absent means none. */
async function splitRows(file: string): Promise<Row[]> {
  return existsSync(file) ? jsonl(file) : [];
}

async function jsonl(file: string): Promise<Row[]> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Row);
}

async function parquetFile(file: string): Promise<{ rows: Row[]; tree: SchemaTree }> {
  const b = await readFile(file);
  const buf = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  const meta = parquetMetadata(buf);
  return { rows: (await parquetReadObjects({ file: buf })) as Row[], tree: parquetSchema(meta) };
}

/** A schema node as Parquet stores it: repetition, physical type, logical type, children. */
function shape(t: SchemaTree): unknown {
  const e = t.element;
  return {
    name: e.name,
    rep: e.repetition_type,
    ...(e.type !== undefined ? { type: e.type } : {}),
    ...(e.logical_type !== undefined ? { logical: e.logical_type.type } : {}),
    ...(t.children.length > 0 ? { children: t.children.map(shape) } : {}),
  };
}

const str = (name: string, rep = 'REQUIRED'): unknown => ({ name, rep, type: 'BYTE_ARRAY', logical: 'STRING' });
const listOf = (name: string, element: unknown[]): unknown => ({
  name,
  rep: 'REQUIRED',
  logical: 'LIST',
  children: [{ name: 'list', rep: 'REPEATED', children: [{ name: 'element', rep: 'REQUIRED', children: element }] }],
});

/** The rounds from the seed to the best one, found here from the distill records (not with sft's code). */
function pathOf(t: TraceRecord): RoundRecord[] {
  const by = new Map(t.rounds.map((r) => [r.round, r]));
  const out: RoundRecord[] = [];
  for (let r = by.get(t.bestRound); r !== undefined; r = r.parent === null ? undefined : by.get(r.parent)) out.unshift(r);
  return out;
}

function expectWorkflow(text: string, r: RoundRecord, where: string): void {
  const p = parseReply(text);
  expect(p.ok, `${where}: ${JSON.stringify(p.failures)}`).toBe(true);
  if (!p.ok) return;
  expect(p.parts.graph, where).toBe(r.graph.trim());
  expect(p.parts.prompt, where).toBe(r.prompt.trim());
  expect(p.parts.modification, where).toBe(r.modification.trim());
}

function reasoningOf(r: RoundRecord): string {
  const a = r.attempts.filter((x) => x.outcome === 'accepted').at(-1)!;
  return (a.reasoning ?? '').trim();
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else out.push(p);
  }
  return out;
}

/** Every value of a file as text: Parquet through the independent reader (its pages are compressed). */
async function exportedText(file: string): Promise<string> {
  if (file.endsWith('.parquet')) return JSON.stringify((await parquetFile(file)).rows, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v));
  return readFile(file, 'utf8');
}

/** A byte-level BPE tokenizer.json with no merges: one token per UTF-8 byte, so counts are checkable by hand. */
function byteTokenizer(): unknown {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const vocab: Record<string, number> = {};
  bs.forEach((b, i) => (vocab[String.fromCodePoint(cs[i]!)] = b));
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel' },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, vocab, merges: [] },
  };
}

const messagesBytes = (m: Msg[]): number => m.reduce((n, x) => n + Buffer.byteLength(x.content) + Buffer.byteLength(x.reasoning_content ?? ''), 0);

let dir = '';
let run = '';
let demo: CliResult;
let traces: TraceRecord[] = [];
let all = '';
let allStats: SftStats;
let sep = '';

describe('sft export', () => {
  beforeAll(async () => {
    dir = await tmpDir();
    run = path.join(dir, 'run');
    // A low worker accuracy makes seeds fail, so the teacher's rounds win and paths have several steps.
    demo = await cli([
      'demo', '--out', run,
      '--set', 'sim.latency.fixedMs=2', '--set', 'sim.latency.perTokenMs=0',
      '--set', 'distill.maxQueries=10', '--set', 'distill.maxRounds=3', '--set', 'distill.finalRuns=1', '--set', 'sim.worker.accuracy=0.25',
      '--set', 'models.teacher.apiKeyEnv=FR_SFT_PLANTED', '--set', 'models.worker.apiKeyEnv=FR_SFT_PLANTED',
      '--set', `cache.dir=${path.join(dir, 'cache')}`,
    ]);
    expect(demo.code, demo.stderr.slice(-3000)).toBe(0);
    traces = await readAll<TraceRecord>(path.join(run, 'distill', 'traces.jsonl'));
    // Lenient settings export every usable trace, so the checks below see as many samples as the run allows.
    all = path.join(dir, 'all');
    allStats = await runSft({ cfg: SftSchema.parse({ minHiddenScore: 0, dedupeWorkflows: false, validationFraction: 0.3 }), from: [run], outDir: all });
    sep = path.join(dir, 'sep');
    await runSft({ cfg: SftSchema.parse({ minHiddenScore: 0, dedupeWorkflows: false, reasoningFormat: 'separate-field' }), from: [path.join(run, 'distill')], outDir: sep });
  }, 120_000);

  it('runs distill then sft in `demo`, into the same run directory, with both summaries', async () => {
    expect(demo.stdout).toContain('== demo ==');
    expect(demo.stdout).toContain('== demo sft ==');
    const stats = JSON.parse(await readFile(path.join(run, 'sft', 'stats.json'), 'utf8')) as SftStats;
    expect(stats.traces).toBe(traces.length);
    const dropped = Object.values(stats.queries.dropped).reduce((a, b) => a + (b ?? 0), 0);
    expect(stats.queries.kept + dropped).toBe(traces.length);
    expect(stats.singleTurn.train + stats.singleTurn.validation).toBe((await splitRows(path.join(run, 'sft', 'train.messages.jsonl'))).length + (await splitRows(path.join(run, 'sft', 'val.messages.jsonl'))).length);
    expect(stats.singleTurn.tokens.p50).toBeGreaterThan(0);
    expect(stats.tokenCounter).toMatch(/^estimate: ceil\(chars \/ 3\.5\)/);
    // Only queries whose best workflow passed every hidden test are in the default export.
    const byId = new Map(traces.map((t) => [t.queryId, t]));
    for (const r of await jsonl(path.join(run, 'sft', 'train.messages.jsonl'))) expect(byId.get(r.id as string)!.hiddenScore).toBe(1);
  });

  it('parses every exported sample, in every format, back to the rounds of its trace', async () => {
    const byId = new Map(traces.map((t) => [t.queryId, t]));
    expect(allStats.queries.kept).toBeGreaterThanOrEqual(4);
    expect(allStats.turnsPerSample.max).toBeGreaterThanOrEqual(2);
    let checked = 0;
    for (const split of ['train', 'val']) {
      const single = await jsonl(path.join(all, `${split}.messages.jsonl`));
      const multi = await jsonl(path.join(all, `${split}.multiturn.messages.jsonl`));
      const sharegpt = await jsonl(path.join(all, `${split}.sharegpt.jsonl`));
      const multiSharegpt = await jsonl(path.join(all, `${split}.multiturn.sharegpt.jsonl`));
      const alpaca = JSON.parse(await readFile(path.join(all, `${split}.alpaca.json`), 'utf8')) as Row[];
      const verl = (await parquetFile(path.join(all, `${split}.verl-sft.parquet`))).rows;
      for (const rows of [multi, sharegpt, multiSharegpt, alpaca, verl]) expect(rows.map((r) => r.id)).toEqual(single.map((r) => r.id));
      single.forEach((row, i) => {
        const t = byId.get(row.id as string)!;
        const p = pathOf(t);
        const steps = p.slice(1);
        const best = p.at(-1)!;
        const msgs = row.messages as Msg[];
        expect(msgs.map((m) => m.role)).toEqual(['system', 'user', 'assistant']);
        expect(msgs[1]!.content).toContain(t.query.trim());
        const answer = msgs[2]!.content;
        expectWorkflow(answer, best, `${t.queryId} single-turn`);
        // R̂: every path round's reasoning, in order, inside the think block.
        const think = /^<think>\n([\s\S]*)\n<\/think>\n/.exec(answer)?.[1] ?? '';
        expect(think).toBe(steps.map(reasoningOf).filter((x) => x !== '').join('\n\n'));

        const turns = (multi[i]!.messages as Msg[]).filter((m) => m.role === 'assistant');
        expect(turns).toHaveLength(steps.length);
        turns.forEach((m, k) => expectWorkflow(m.content, steps[k]!, `${t.queryId} turn ${k + 1}`));

        const conv = sharegpt[i]!.conversations as Array<{ from: string; value: string }>;
        expect(conv.map((c) => c.from)).toEqual(['human', 'gpt']);
        expectWorkflow(conv[1]!.value, best, `${t.queryId} sharegpt`);
        const mconv = multiSharegpt[i]!.conversations as Array<{ from: string; value: string }>;
        expect(mconv.map((c) => c.from)).toEqual(mconv.map((_c, k) => (k % 2 === 0 ? 'human' : 'gpt')));
        mconv.filter((c) => c.from === 'gpt').forEach((c, k) => expectWorkflow(c.value, steps[k]!, `${t.queryId} sharegpt turn ${k + 1}`));
        expect(sharegpt[i]!.system).toBe(msgs[0]!.content);

        expectWorkflow(alpaca[i]!.output as string, best, `${t.queryId} alpaca`);
        expect(alpaca[i]!.instruction).toBe(msgs[1]!.content);
        expectWorkflow(verl[i]!.answer as string, best, `${t.queryId} verl`);
        expect(verl[i]!.question).toBe(`${msgs[0]!.content}\n\n${msgs[1]!.content}`);
        checked++;
      });
    }
    expect(checked).toBe(allStats.queries.kept);
    expect(allStats.singleTurn.validation).toBeGreaterThan(0);
  });

  it('writes Parquet with real nested types, read back by hyparquet with the same values as the JSONL', async () => {
    const single = await parquetFile(path.join(all, 'train.messages.parquet'));
    expect(single.tree.children.map(shape)).toEqual([str('id'), listOf('messages', [str('role'), str('content')])]);
    expect(single.rows).toEqual(await jsonl(path.join(all, 'train.messages.jsonl')));
    const multi = await parquetFile(path.join(all, 'val.multiturn.messages.parquet'));
    expect(multi.rows).toEqual(await jsonl(path.join(all, 'val.multiturn.messages.jsonl')));
    expect((await parquetFile(path.join(all, 'train.verl-sft.parquet'))).tree.children.map(shape)).toEqual([str('id'), str('question'), str('answer')]);

    // separate-field: one struct type for every message, reasoning_content null outside assistant turns.
    const s = await parquetFile(path.join(sep, 'train.messages.parquet'));
    expect(s.tree.children.map(shape)).toEqual([str('id'), listOf('messages', [str('role'), str('content'), str('reasoning_content', 'OPTIONAL')])]);
    for (const r of s.rows) {
      const m = r.messages as Msg[];
      expect(m.map((x) => x.reasoning_content === null)).toEqual([true, true, false]);
      expect(m[2]!.content.startsWith('<modification>')).toBe(true);
    }

    const rl = await parquetFile(path.join(all, 'rl', 'train.parquet'));
    expect(rl.tree.children.map(shape)).toEqual([
      str('data_source'),
      listOf('prompt', [str('role'), str('content')]),
      str('ability'),
      { name: 'reward_model', rep: 'REQUIRED', children: [str('style'), str('ground_truth')] },
      { name: 'extra_info', rep: 'REQUIRED', children: [str('split'), { name: 'index', rep: 'REQUIRED', type: 'INT64' }, str('prompt_uid'), str('meta_json')] },
      str('problem'),
      str('answer'),
    ]);
  });

  it('gives DuckDB the same column types (list<struct<role, content>>, structs, BIGINT)', async () => {
    const db = await DuckDBInstance.create(':memory:');
    const con = await db.connect();
    const types = async (file: string): Promise<Record<string, string>> => {
      const r = await con.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${file.replace(/'/g, "''")}')`);
      return Object.fromEntries(r.getRowObjectsJson().map((x) => [String(x.column_name), String(x.column_type)]));
    };
    expect(await types(path.join(all, 'train.messages.parquet'))).toEqual({ id: 'VARCHAR', messages: 'STRUCT("role" VARCHAR, "content" VARCHAR)[]' });
    expect(await types(path.join(all, 'rl', 'val.parquet'))).toEqual({
      data_source: 'VARCHAR',
      prompt: 'STRUCT("role" VARCHAR, "content" VARCHAR)[]',
      ability: 'VARCHAR',
      reward_model: 'STRUCT(style VARCHAR, ground_truth VARCHAR)',
      extra_info: 'STRUCT(split VARCHAR, "index" BIGINT, prompt_uid VARCHAR, meta_json VARCHAR)',
      problem: 'VARCHAR',
      answer: 'VARCHAR',
    });
    const roles = await con.runAndReadAll(`SELECT list_transform(messages, m -> m.role) AS roles FROM read_parquet('${path.join(all, 'train.multiturn.messages.parquet')}')`);
    for (const r of roles.getRowObjectsJson()) expect((r.roles as string[]).slice(0, 3)).toEqual(['system', 'user', 'assistant']);
    con.closeSync();
  });

  it('builds the RL prompt set in verl\'s schema, one row per distinct query, ground truth naming the task', async () => {
    const rows = [...(await parquetFile(path.join(all, 'rl', 'train.parquet'))).rows, ...(await parquetFile(path.join(all, 'rl', 'val.parquet'))).rows];
    expect(rows.map((r) => (r.extra_info as Row).prompt_uid).sort()).toEqual(traces.map((t) => t.queryId).sort());
    const byId = new Map(traces.map((t) => [t.queryId, t]));
    for (const r of rows) {
      const info = r.extra_info as { split: string; index: bigint; prompt_uid: string };
      const t = byId.get(info.prompt_uid)!;
      expect(r.data_source).toBe(`flowreasoner/${t.dataset}`);
      expect((r.prompt as Msg[]).map((m) => m.role)).toEqual(['system', 'user']);
      const rm = r.reward_model as { style: string; ground_truth: string };
      expect(JSON.parse(rm.ground_truth)).toEqual({ dataset: t.dataset, taskId: t.taskId, entryPoint: t.entryPoint });
      expect(r.answer).toBe(rm.ground_truth);
      expect(typeof info.index).toBe('bigint');
    }
    // The SFT and RL splits agree: a validation query of one is never a training query of the other.
    const sftVal = new Set((await jsonl(path.join(all, 'val.messages.jsonl'))).map((r) => r.id));
    for (const r of rows) if (sftVal.has((r.extra_info as Row).prompt_uid)) expect((r.extra_info as Row).split).toBe('validation');
  });

  it('registers every LLaMA-Factory file in dataset_info.json with columns that exist in the rows', async () => {
    const info = JSON.parse(await readFile(path.join(all, 'dataset_info.json'), 'utf8')) as Record<string, { file_name: string; formatting: string; columns: Record<string, string>; tags?: Record<string, string> }>;
    expect(Object.keys(info)).toContain('flowreasoner_sft');
    expect(Object.keys(info)).toContain('flowreasoner_sft_val');
    for (const [name, d] of Object.entries(info)) {
      const file = path.join(all, d.file_name);
      expect(existsSync(file), name).toBe(true);
      const rows = file.endsWith('.json') ? (JSON.parse(await readFile(file, 'utf8')) as Row[]) : await jsonl(file);
      for (const r of rows) {
        for (const col of Object.values(d.columns)) expect(r, `${name}.${col}`).toHaveProperty(col);
        if (d.formatting === 'sharegpt') {
          const turns = (r[d.columns.messages!] as Row[]).filter((m) => m[d.tags!.role_tag!] !== d.tags!.system_tag);
          // LLaMA-Factory's rule: user at odd positions, assistant at even ones, ending on the assistant.
          turns.forEach((m, k) => expect(m[d.tags!.role_tag!]).toBe(k % 2 === 0 ? d.tags!.user_tag : d.tags!.assistant_tag));
          expect(turns.length % 2).toBe(0);
        }
      }
    }
  });

  it('never exports a hidden-only test line or the API key used during the distill run', async () => {
    const tasks = new Map([...(await loadBenchmark('humaneval', { dataDir: sharedDatasets })), ...(await loadBenchmark('mbpp', { dataDir: sharedDatasets }))].map((t) => [t.id, t]));
    const hidden: string[] = [];
    for (const t of traces) {
      const task = tasks.get(t.taskId)!;
      const publicCode = [...(task.publicTests.tests ?? []).map((x) => x.code), task.publicTests.test ?? ''].join('\n');
      hidden.push(
        ...[...(task.hiddenTests.tests ?? []).map((x) => x.code), ...(task.hiddenTests.test ?? '').split('\n')]
          .map((l) => l.trim())
          .filter((l) => l.startsWith('assert') && !publicCode.includes(l) && !task.prompt.includes(l)),
      );
    }
    expect(hidden.length).toBeGreaterThan(20);
    const files = [...(await filesUnder(all)), ...(await filesUnder(sep)), ...(await filesUnder(path.join(run, 'sft')))];
    expect(files.length).toBeGreaterThan(40);
    for (const f of files) {
      const text = await exportedText(f);
      expect(text.includes(SECRET), f).toBe(false);
      for (const line of hidden) expect(text.includes(line), `${f}: ${line}`).toBe(false);
    }
    // The feedback the student sees is about public tests, and it is there.
    expect((await readFile(path.join(all, 'train.multiturn.messages.jsonl'), 'utf8')).includes('on the public tests')).toBe(true);
  });

  it('CLI: several --from folders, a tokenizer.json for real counts, the length limit, and exit codes', async () => {
    const tok = path.join(dir, 'tok', 'tokenizer.json');
    await import('node:fs/promises').then((fs) => fs.mkdir(path.dirname(tok), { recursive: true }));
    await writeFile(tok, JSON.stringify(byteTokenizer()));
    // With one token per byte, the sample lengths are known before the run; cut at their median.
    const lengths = [...(await jsonl(path.join(all, 'train.messages.jsonl'))), ...(await jsonl(path.join(all, 'val.messages.jsonl')))].map((r) => messagesBytes(r.messages as Msg[])).sort((a, b) => a - b);
    const limit = lengths[Math.floor(lengths.length / 2)]!;
    const out = path.join(dir, 'cli');
    const lenient = ['--set', 'sft.minHiddenScore=0', '--set', 'sft.dedupeWorkflows=false'];
    const ok = await cli(['sft', '--from', path.join(run, 'distill'), run, '--out', out, '--tokenizer', tok, ...lenient, '--set', `sft.maxTokens=${limit}`]);
    const empty = await inProcess(['sft', '--from', run, '--out', path.join(dir, 'empty'), '--set', 'sft.maxTokens=1']);
    const noFrom = await inProcess(['sft', '--out', path.join(dir, 'x')]);
    const missing = await inProcess(['sft', '--from', path.join(dir, 'nope')]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('== sft ==');
    const stats = JSON.parse(await readFile(path.join(out, 'stats.json'), 'utf8')) as SftStats;
    expect(stats.tokenCounter).toBe(`tokenizer: ${tok}`);
    // The same run given twice: every usable query appears twice and is kept once.
    expect(stats.traces).toBe(2 * traces.length);
    expect(stats.queries.kept).toBe(allStats.queries.kept);
    expect(stats.queries.dropped['duplicate-query']).toBe(allStats.queries.kept);
    const kept = [...(await splitRows(path.join(out, 'train.messages.jsonl'))), ...(await splitRows(path.join(out, 'val.messages.jsonl')))].map((r) => messagesBytes(r.messages as Msg[]));
    expect(kept.every((n) => n <= limit)).toBe(true);
    expect(kept).toHaveLength(lengths.filter((n) => n <= limit).length);
    expect(stats.singleTurn.droppedTooLong).toBe(lengths.length - kept.length);
    expect(stats.singleTurn.tokens.max).toBe(Math.max(...kept));

    expect(empty.code).toBe(1);
    expect(empty.stdout).toContain('no sample passed the filters');
    expect(noFrom.code).toBe(2);
    expect(noFrom.stderr).toContain('--from');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no distill traces');
  }, 60_000);
});
