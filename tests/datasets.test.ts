// Benchmark loaders against the real staged files: counts, field mapping, public/hidden split, program assembly, malformed rows, partitions.
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { PipelineError } from '../pipeline/errors.ts';
import { parsePythonJson } from '../datasets/read-rows.ts';
import { BENCHMARK_LIST, BENCHMARKS, benchmarkFiles, loadBenchmark } from '../datasets/registry.ts';
import { assembleProgram, jobFor, TaskSchema, taskJsonSchema, type Task } from '../datasets/task.ts';
import { DEFAULT_FRACTIONS, partitionOf, partitionPoint, PARTITIONS, selectPartition } from '../datasets/partition.ts';
import { tmpDir } from './helpers/tmp.ts';

const repoRoot = path.resolve(import.meta.dirname, '..');
const dataDir = process.env.FLOWREASONER_DATA_DIR ?? path.resolve(repoRoot, '../shared/datasets');

const all = new Map<string, Task[]>();
beforeAll(async () => {
  for (const b of BENCHMARK_LIST) all.set(b.name, await loadBenchmark(b.name, { dataDir }));
});

function tasksOf(name: string): Task[] {
  const t = all.get(name);
  if (t === undefined) throw new Error(`${name} not loaded`);
  return t;
}

function byId(name: string, id: string): Task {
  const t = tasksOf(name).find((x) => x.id === id);
  if (t === undefined) throw new Error(`${name}: no ${id}`);
  return t;
}

async function loadError(p: Promise<unknown>): Promise<PipelineError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof PipelineError) return e;
    throw e;
  }
  throw new Error('expected a PipelineError');
}

/** Runs a Python script with JSON on stdin and returns its JSON stdout. */
function python(script: string, input: unknown): unknown {
  const r = spawnSync('python3', ['-c', script], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`python3 failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe('record counts', () => {
  it.each([
    ['humaneval', 164],
    ['humaneval-plus', 164],
    ['mbpp', 974],
    ['mbpp-sanitized', 427],
    ['mbpp-plus', 378],
    ['bigcodebench', 1140],
    ['bigcodebench-hard', 148],
  ])('%s has %i tasks, each a valid Task with a unique id', (name, n) => {
    const tasks = tasksOf(name);
    expect(tasks).toHaveLength(n);
    expect(BENCHMARKS[name as keyof typeof BENCHMARKS].count).toBe(n);
    expect(new Set(tasks.map((t) => t.id)).size).toBe(n);
    for (const t of tasks) expect(TaskSchema.safeParse(t).success, t.id).toBe(true);
  });

  it('official MBPP splits: test is ids 11-510 (500 original, 257 sanitized, 224 MBPP+)', async () => {
    const counts = async (name: string) =>
      Object.fromEntries(await Promise.all((['prompt', 'test', 'validation', 'train'] as const).map(async (s) => [s, (await loadBenchmark(name, { dataDir, split: s })).length])));
    expect(await counts('mbpp')).toEqual({ prompt: 10, test: 500, validation: 90, train: 374 });
    expect(await counts('mbpp-sanitized')).toEqual({ prompt: 7, test: 257, validation: 43, train: 120 });
    expect((await loadBenchmark('mbpp-plus', { dataDir, split: 'test' })).length).toBe(224);
    const test = await loadBenchmark('mbpp', { dataDir, split: 'test' });
    expect(test[0]?.id).toBe('Mbpp/11');
    expect(test.at(-1)?.id).toBe('Mbpp/510');
    expect(test.every((t) => t.meta.split === 'test')).toBe(true);
  });

  it('BigCodeBench v0.1.0_hf loads too, and its Hard subset is selected by the id list', async () => {
    const full = await loadBenchmark('bigcodebench', { dataDir, version: '0.1.0' });
    const hard = await loadBenchmark('bigcodebench-hard', { dataDir, version: '0.1.0' });
    expect(full).toHaveLength(1140);
    expect(hard).toHaveLength(148);
    expect(new Set(hard.map((t) => t.id))).toEqual(new Set(tasksOf('bigcodebench-hard').map((t) => t.id)));
    expect(hard.every((t) => t.benchmark === 'bigcodebench-hard' && t.meta.version === '0.1.0')).toBe(true);
    // The v0.1.4 fixes changed task 16, so the versions really differ there.
    expect(full.find((t) => t.id === 'BigCodeBench/16')?.hiddenTests.test).not.toBe(byId('bigcodebench', 'BigCodeBench/16').hiddenTests.test);
  });
});

describe('field mapping', () => {
  it('HumanEval/0: entry point, check harness, reference = prompt + canonical solution, two docstring examples public', () => {
    const t = byId('humaneval', 'HumanEval/0');
    expect(t.entryPoint).toBe('has_close_elements');
    expect(t.completionPrefix).toBe(t.prompt);
    expect(t.reference.startsWith(t.prompt)).toBe(true);
    expect(t.reference).toContain('for idx, elem in enumerate(numbers):');
    expect(t.hiddenTests).toMatchObject({ harness: 'check', entryPoint: 'has_close_elements', timeoutS: 3 });
    expect(t.hiddenTests.test).toContain('def check(candidate):');
    expect(t.publicTests).toMatchObject({ harness: 'asserts', timeoutS: 3, fastFail: false });
    expect(t.publicTests.tests).toEqual([
      { name: 'example_1', code: 'assert has_close_elements([1.0, 2.0, 3.0], 0.5) == False' },
      { name: 'example_2', code: 'assert has_close_elements([1.0, 2.8, 3.0, 4.0, 5.0, 2.0], 0.3) == True' },
    ]);
    expect(t.meta.publicSource).toBe('docstring');
  });

  it('HumanEval without docstring examples: the first standalone check assert, renamed; 38 and 50 use our overrides', () => {
    const t = byId('humaneval', 'HumanEval/66');
    expect(t.meta.publicSource).toBe('check-assert');
    expect(t.publicTests.tests).toEqual([{ name: 'check_assert_1', code: expect.stringMatching(/^assert digitSum\(""\) == 0/) }]);
    expect(byId('humaneval', 'HumanEval/38').meta.publicSource).toBe('override');
    // A docstring example known to be wrong upstream is dropped, the others kept.
    expect(byId('humaneval', 'HumanEval/47').publicTests.tests?.map((x) => x.code)).toEqual(['assert median([3, 1, 2, 4, 5]) == 3']);
  });

  it('HumanEval+: the evalplus oracle-path spec (inputs base then plus, prompt + canonical reference, atol), 60 s / 4 s', () => {
    const t = byId('humaneval-plus', 'HumanEval/0');
    expect(t.hiddenTests).toMatchObject({ harness: 'evalplus', timeoutS: 60, perCallTimeoutS: 4, baseCount: 7, fastFail: true, atol: 0, dataset: 'humaneval', taskId: 'HumanEval/0' });
    expect(t.hiddenTests.test).toBeUndefined();
    expect(t.hiddenTests.requires).toBeUndefined();
    expect(t.hiddenTests.reference).toBe(t.reference);
    expect(t.reference.startsWith(t.prompt)).toBe(true);
    expect(t.reference).toContain('sorted_numbers = sorted(numbers)');
    expect(t.meta).toMatchObject({ baseCount: 7, plusCount: 999, atol: 0 });
    expect(parsePythonJson(t.hiddenTests.inputsJson ?? '')).toHaveLength(7 + 999);
    // find_zero is judged by EvalPlus's special oracle in the comparer, with the dataset's atol.
    const fz = byId('humaneval-plus', 'HumanEval/32');
    expect(fz.hiddenTests).toMatchObject({ baseCount: 100, atol: 0.0001, taskId: 'HumanEval/32' });
    expect(fz.meta.testReplaced).toBeUndefined();
    expect(byId('humaneval-plus', 'HumanEval/2').hiddenTests.atol).toBe(1e-6);
  });

  it('Mbpp/2 (original): entry point from the code, asserts 1-3 hidden, assert 1 public and in the prompt', () => {
    const t = byId('mbpp', 'Mbpp/2');
    expect(t.entryPoint).toBe('similar_elements');
    expect(t.completionPrefix).toBe('');
    const asserts = [
      'assert similar_elements((3, 4, 5, 6),(5, 7, 4, 10)) == (4, 5)',
      'assert similar_elements((1, 2, 3, 4),(5, 4, 3, 7)) == (3, 4)',
      'assert similar_elements((11, 12, 14, 13),(17, 15, 14, 13)) == (13, 14)',
    ];
    expect(t.hiddenTests).toMatchObject({ harness: 'asserts', timeoutS: 30, fastFail: true });
    expect(t.hiddenTests.tests).toEqual(asserts.map((code, i) => ({ name: `assert_${i + 1}`, code })));
    expect(t.publicTests.tests).toEqual([{ name: 'assert_1', code: asserts[0] }]);
    expect(t.prompt).toContain('Write a function to find the similar elements from the given two tuple lists.');
    expect(t.prompt).toContain(asserts[0]);
    expect(t.meta).toMatchObject({ taskNumber: 2, split: 'prompt' });
    expect(byId('mbpp', 'Mbpp/367').hiddenTests.setup).toContain('root = Node(1)');
  });

  it('sanitized MBPP: test imports become setup; every assert is hidden', () => {
    const t = byId('mbpp-sanitized', 'Mbpp/82');
    expect(t.hiddenTests.setup).toBe('import math');
    expect(t.publicTests.setup).toBe('import math');
    const long = tasksOf('mbpp-sanitized').find((x) => (x.hiddenTests.tests?.length ?? 0) === 7);
    expect(long?.publicTests.tests).toHaveLength(1);
  });

  it('MBPP+: prompt from the main file, its assert public, the evalplus oracle-path spec hidden', () => {
    const t = byId('mbpp-plus', 'Mbpp/2');
    expect(t.prompt).toContain('Write a function to find the shared elements from the given two lists.');
    expect(t.publicTests.tests).toEqual([{ name: 'assert_1', code: 'assert set(similar_elements((3, 4, 5, 6),(5, 7, 4, 10))) == set((4, 5))' }]);
    expect(t.hiddenTests).toMatchObject({ harness: 'evalplus', baseCount: 3, timeoutS: 60, perCallTimeoutS: 4, atol: 0, dataset: 'mbpp', taskId: 'Mbpp/2' });
    expect(t.hiddenTests.test).toBeUndefined();
    expect(t.hiddenTests.reference).toBe(t.reference);
    expect(t.hiddenTests.inputsJson?.startsWith('[[[3, 4, 5, 6], [5, 7, 4, 10]], ')).toBe(true);
    expect(parsePythonJson(t.hiddenTests.inputsJson ?? '')).toHaveLength(3 + 108);
    expect(t.meta).toMatchObject({ plusCount: 108, split: 'prompt' });
    // Mbpp/793's plus_input is {} upstream: no plus inputs.
    const m793 = byId('mbpp-plus', 'Mbpp/793');
    expect(m793.meta.plusCount).toBe(0);
    expect(parsePythonJson(m793.hiddenTests.inputsJson ?? '')).toHaveLength(m793.hiddenTests.baseCount ?? -1);
  });

  it('BigCodeBench: task_func, unittest 240 s, complete_prompt as prompt, requires and libs', () => {
    const t = byId('bigcodebench', 'BigCodeBench/0');
    expect(t.entryPoint).toBe('task_func');
    expect(t.hiddenTests).toMatchObject({ harness: 'unittest', timeoutS: 240, entryPoint: 'task_func' });
    expect(t.completionPrefix).toBe(t.prompt);
    expect(t.meta.libs).toEqual(['random', 'itertools']);
    expect(t.meta.codePrompt).toBe('import itertools\nfrom random import shuffle\ndef task_func(numbers=list(range(1, 3))):\n');
    expect(t.requires).toEqual([]);
    const pandas = byId('bigcodebench', 'BigCodeBench/9');
    expect(pandas.requires).toEqual(['matplotlib', 'pandas', 'seaborn']);
    expect(pandas.hiddenTests.requires).toEqual(['matplotlib', 'pandas', 'seaborn']);
    expect(pandas.publicTests.requires).toEqual(['matplotlib', 'pandas', 'seaborn']);
  });

  it('the task JSON Schema is generated from the zod schema', () => {
    const schema = taskJsonSchema() as { properties?: Record<string, unknown>; required?: string[] };
    expect(Object.keys(schema.properties ?? {})).toEqual(expect.arrayContaining(['id', 'prompt', 'publicTests', 'hiddenTests', 'requires', 'meta']));
    expect(schema.required).toContain('hiddenTests');
  });
});

describe('public tests run', () => {
  it('BigCodeBench public tests parse and keep exactly the first TestCases method, everything else unchanged', () => {
    const tasks = tasksOf('bigcodebench');
    // Hard is the same rows, so the same cut; checking that here spares a second Python pass.
    const full = new Map(tasks.map((t) => [t.id, t.publicTests.test]));
    for (const h of tasksOf('bigcodebench-hard')) expect(h.publicTests.test, h.id).toBe(full.get(h.id));
    const script = [
      'import ast, json, sys',
      'def split(src):',
      '    mod = ast.parse(src)',
      "    cls = [n for n in mod.body if isinstance(n, ast.ClassDef) and n.name == 'TestCases'][0]",
      "    is_test = lambda n: isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith('test')",
      '    tests = [n.name for n in cls.body if is_test(n)]',
      '    rest = [ast.dump(n) for n in cls.body if not is_test(n)] + [ast.dump(n) for n in mod.body if n is not cls]',
      '    return tests, rest',
      'bad = []',
      'for item in json.load(sys.stdin):',
      '    try:',
      "        pt, pr = split(item['public']); ht, hr = split(item['hidden'])",
      "        if pt != ht[:1] or pr != hr: bad.append([item['id'], pt, ht[:1]])",
      '    except Exception as e:',
      "        bad.append([item['id'], repr(e)])",
      'print(json.dumps({"n": len(bad), "bad": bad[:5]}))',
    ].join('\n');
    const out = python(script, tasks.map((t) => ({ id: t.id, public: t.publicTests.test, hidden: t.hiddenTests.test })));
    expect(out).toEqual({ n: 0, bad: [] });
  });

  it('HumanEval(+) public asserts pass for the reference', () => {
    const tasks = [...tasksOf('humaneval'), ...tasksOf('humaneval-plus')];
    const script = [
      'import json, sys, signal',
      'def alarm(*a): raise TimeoutError()',
      'signal.signal(signal.SIGALRM, alarm)',
      'data = json.load(sys.stdin)',
      'bad = []',
      'for t in data:',
      '    g = {}',
      '    signal.alarm(5)',
      '    try:',
      "        exec(t['program'], g)",
      "        for code in t['asserts']: exec(code, g)",
      '    except BaseException as e:',
      "        bad.append([t['id'], repr(e)[:200]])",
      '    finally:',
      '        signal.alarm(0)',
      'print(json.dumps({"bad": bad}))',
    ].join('\n');
    const input = tasks.map((t) => ({ id: `${t.benchmark}:${t.id}`, program: t.reference, asserts: (t.publicTests.tests ?? []).map((x) => x.code) }));
    expect(python(script, input)).toEqual({ bad: [] });
  });
});

describe('program assembly and jobs', () => {
  it('HumanEval: prompt + completion, or the full solution', () => {
    const t = byId('humaneval', 'HumanEval/0');
    expect(assembleProgram(t, { completion: '    return False\n' })).toBe(`${t.prompt}    return False\n`);
    expect(assembleProgram(t, { completion: 'x', solution: 'def has_close_elements(a, b): return 1' })).toBe('def has_close_elements(a, b): return 1');
  });

  it('MBPP: the code itself', () => {
    const t = byId('mbpp', 'Mbpp/2');
    expect(assembleProgram(t, { completion: 'def similar_elements(a, b): pass' })).toBe('def similar_elements(a, b): pass');
  });

  it('BigCodeBench: calibrated by default (code_prompt + pass + solution), plain when asked', () => {
    const t = byId('bigcodebench', 'BigCodeBench/0');
    const body = '    return 1.0\n';
    const plain = t.prompt + body;
    expect(assembleProgram(t, { completion: body }, { calibrated: false })).toBe(plain);
    expect(assembleProgram(t, { completion: body })).toBe(`${String(t.meta.codePrompt)}\n    pass\n${plain}`);
    expect(assembleProgram(t, { solution: 'import x\n' })).toBe(`${String(t.meta.codePrompt)}\n    pass\nimport x\n`);
  });

  it('a sample with neither completion nor solution is a usage error', () => {
    const t = byId('humaneval', 'HumanEval/0');
    expect(() => assembleProgram(t, {})).toThrow(expect.objectContaining({ code: 'usage' }));
  });

  it('jobFor: the spec plus the program, with lists copied', () => {
    const t = byId('mbpp', 'Mbpp/2');
    const job = jobFor(t, 'PROGRAM', 'hidden');
    expect(job).toMatchObject({ harness: 'asserts', program: 'PROGRAM', entryPoint: 'similar_elements', timeoutS: 30 });
    expect(job.tests).toHaveLength(3);
    job.tests?.pop();
    expect(t.hiddenTests.tests).toHaveLength(3);
    expect(jobFor(t, 'P', 'public').tests).toHaveLength(1);
    expect(jobFor(byId('bigcodebench', 'BigCodeBench/9'), 'P', 'hidden').requires).toEqual(['matplotlib', 'pandas', 'seaborn']);
  });
});

describe('errors', () => {
  async function dirWith(files: Record<string, string | Buffer>): Promise<string> {
    const d = await tmpDir();
    for (const [name, content] of Object.entries(files)) await writeFile(path.join(d, name), content);
    return d;
  }
  const heRow = { task_id: 'HumanEval/0', prompt: 'def f(x):\n    """\n    >>> f(1)\n    2\n    """\n', entry_point: 'f', canonical_solution: '    return x + 1\n', test: 'def check(candidate):\n    assert candidate(1) == 2\n' };

  it('a missing file names the file and says how to get it', async () => {
    const d = await tmpDir();
    const e = await loadError(loadBenchmark('humaneval', { dataDir: d }));
    expect(e.code).toBe('data-missing');
    expect(e.message).toContain(path.join(d, 'HumanEval.jsonl.gz'));
    expect(e.message).toContain('npm run data:download');
    expect(e.message).toContain('FLOWREASONER_DATA_DIR');
  });

  it('gzipped JSONL: a row missing a field names file:line:field', async () => {
    const rows = [heRow, { ...heRow, task_id: 'HumanEval/1', entry_point: undefined }].map((r) => JSON.stringify(r)).join('\n');
    const d = await dirWith({ 'HumanEval.jsonl.gz': gzipSync(`${rows}\n`) });
    const e = await loadError(loadBenchmark('humaneval', { dataDir: d }));
    expect(e.code).toBe('data-invalid');
    expect(e.message).toContain(`${path.join(d, 'HumanEval.jsonl.gz')}:2: field "entry_point"`);
  });

  it('a line that is not JSON, and a gzip file that is not gzip', async () => {
    const d = await dirWith({ 'HumanEval.jsonl.gz': gzipSync(`${JSON.stringify(heRow)}\n\n{"task_id": \n`) });
    expect((await loadError(loadBenchmark('humaneval', { dataDir: d }))).message).toMatch(/HumanEval\.jsonl\.gz:3: not valid JSON/);
    const d2 = await dirWith({ 'HumanEval.jsonl.gz': 'plain text' });
    expect(await loadError(loadBenchmark('humaneval', { dataDir: d2 }))).toMatchObject({ code: 'data-invalid', message: expect.stringContaining('as gzip') });
  });

  it('MBPP: a wrong-length test_list and an entry point the asserts never call', async () => {
    const good = { task_id: 2, text: 't', code: 'def f(x):\n  return x', test_setup_code: '', test_list: ['assert f(1) == 1', 'assert f(2) == 2', 'assert f(3) == 3'], challenge_test_list: [] };
    const rows = [good, { ...good, task_id: 3 }, { ...good, task_id: 4, test_list: good.test_list.slice(0, 2) }];
    const d = await dirWith({ 'mbpp.jsonl': rows.map((r) => JSON.stringify(r)).join('\n') });
    expect((await loadError(loadBenchmark('mbpp', { dataDir: d }))).message).toContain('mbpp.jsonl:3: field "test_list"');
    const d2 = await dirWith({ 'mbpp.jsonl': JSON.stringify({ ...good, code: 'def g(x):\n  return x' }) });
    expect((await loadError(loadBenchmark('mbpp', { dataDir: d2 }))).message).toContain('mbpp.jsonl:1: field "code"');
  });

  it('sanitized MBPP (a JSON array): the error names the line the bad element starts on', async () => {
    const good = { source_file: 's', task_id: 2, prompt: 'p', code: 'def f(x):\n  return x', test_imports: [], test_list: ['assert f(1) == 1'] };
    const text = `[\n  ${JSON.stringify(good)},\n  ${JSON.stringify({ ...good, task_id: 3 })},\n  {\n    "task_id": "seven"\n  }\n]\n`;
    const d = await dirWith({ 'sanitized-mbpp.json': text });
    expect((await loadError(loadBenchmark('mbpp-sanitized', { dataDir: d }))).message).toContain('sanitized-mbpp.json:4: field "task_id"');
  });

  it('BigCodeBench: an unparseable libs field', async () => {
    const row = { task_id: 'BigCodeBench/0', complete_prompt: 'def task_func():\n', instruct_prompt: 'i', canonical_solution: '    pass\n', code_prompt: 'def task_func():\n', test: 'import unittest\nclass TestCases(unittest.TestCase):\n    def test_a(self):\n        pass\n', entry_point: 'task_func', libs: 'random, itertools' };
    const d = await dirWith({
      'BigCodeBench-v0.1.4.reconstructed.jsonl.gz': gzipSync(JSON.stringify(row)),
      'bigcodebench-v0.1.4-nonstdlib-imports-by-task.json': JSON.stringify({ 'BigCodeBench/0': [] }),
    });
    expect((await loadError(loadBenchmark('bigcodebench', { dataDir: d }))).message).toContain('BigCodeBench-v0.1.4.reconstructed.jsonl.gz:1: field "libs"');
  });

  it('MBPP+: a base_input that is not a list names the field', async () => {
    const main = { task_id: 'Mbpp/2', prompt: '"""\nassert f(1) == 1\n"""\n', entry_point: 'f', canonical_solution: 'def f(x):\n    return x\n', base_input: 'not json', plus_input: [], atol: 0 };
    const origin = { task_id: 2, test: 'inputs = []', test_imports: [] };
    const d = await dirWith({ 'MbppPlus-v0.2.0.jsonl.gz': gzipSync(JSON.stringify(main)), 'MbppPlus-OriginFmt-v0.2.0.jsonl.gz': gzipSync(JSON.stringify(origin)) });
    expect((await loadError(loadBenchmark('mbpp-plus', { dataDir: d }))).message).toContain('MbppPlus-v0.2.0.jsonl.gz:1: field "base_input"');
  });

  it('registry: unknown names, and options that do not apply, are usage errors', async () => {
    expect(await loadError(loadBenchmark('humaneval-pro', { dataDir }))).toMatchObject({ code: 'usage' });
    expect(await loadError(loadBenchmark('humaneval', { dataDir, split: 'test' }))).toMatchObject({ code: 'usage' });
    expect(await loadError(loadBenchmark('mbpp', { dataDir, version: '0.1.4' }))).toMatchObject({ code: 'usage' });
    expect(await loadError(loadBenchmark('bigcodebench', { dataDir, version: '0.2.0' }))).toMatchObject({ code: 'usage' });
    expect(await loadError(loadBenchmark('mbpp', { dataDir, split: 'dev' as never }))).toMatchObject({ code: 'usage' });
    expect(benchmarkFiles('bigcodebench-hard', '0.1.0')).toEqual(['BigCodeBench-v0.1.0_hf.jsonl.gz', 'bigcodebench-v0.1.4-nonstdlib-imports-by-task.json', 'bigcodebench-hard-task-ids.txt']);
  });
});

describe('custom tasks', () => {
  it('reads our JSONL format into asserts jobs', async () => {
    const d = await tmpDir();
    const f = path.join(d, 'mine.jsonl');
    const rows = [
      { task_id: 'acme/1', prompt: 'Write add(a, b).\nassert add(1, 2) == 3', entry_point: 'add', reference: 'def add(a, b):\n    return a + b\n', public_tests: ['assert add(1, 2) == 3'], hidden_tests: ['assert add(1, 2) == 3', 'assert add(-1, 1) == 0'], setup: 'import math' },
      { task_id: 'acme/2', prompt: 'Write neg(x).', entry_point: 'neg', public_tests: ['assert neg(1) == -1'], hidden_tests: ['assert neg(0) == 0'] },
    ];
    await writeFile(f, rows.map((r) => JSON.stringify(r)).join('\n'));
    const tasks = await loadBenchmark(`custom:${f}`);
    expect(tasks).toHaveLength(2);
    const [a, b] = tasks as [Task, Task];
    expect(a).toMatchObject({ id: 'acme/1', benchmark: 'custom', entryPoint: 'add', completionPrefix: '' });
    expect(a.hiddenTests).toMatchObject({ harness: 'asserts', setup: 'import math', timeoutS: 3, tests: [{ name: 'hidden_1', code: 'assert add(1, 2) == 3' }, { name: 'hidden_2', code: 'assert add(-1, 1) == 0' }] });
    expect(a.publicTests.tests).toEqual([{ name: 'public_1', code: 'assert add(1, 2) == 3' }]);
    expect(b.reference).toBe('');
    expect(assembleProgram(b, { completion: 'def neg(x): return -x' })).toBe('def neg(x): return -x');
  });

  it('rejects unknown keys and duplicate ids, naming file, line and field', async () => {
    const d = await tmpDir();
    const f = path.join(d, 'bad.jsonl');
    const row = { task_id: 'a', prompt: 'p', entry_point: 'f', public_tests: ['assert f()'], hidden_tests: ['assert f()'] };
    await writeFile(f, `${JSON.stringify(row)}\n${JSON.stringify({ ...row, task_id: 'b', hiden_tests: [] })}\n`);
    expect((await loadError(loadBenchmark(`custom:${f}`))).message).toContain(`${f}:2: field "(row)"`);
    await writeFile(f, `${JSON.stringify(row)}\n${JSON.stringify(row)}\n`);
    expect((await loadError(loadBenchmark(`custom:${f}`))).message).toContain(`${f}:2: field "task_id"`);
    expect(await loadError(loadBenchmark(`custom:${path.join(d, 'none.jsonl')}`))).toMatchObject({ code: 'data-missing' });
  });
});

describe('partitions', () => {
  it('are stable: the same seed gives the same answer, pinned by a golden value', () => {
    expect(partitionPoint('Mbpp/2', 'seed-1')).toBe(partitionPoint('Mbpp/2', 'seed-1'));
    // sha256("seed-1" NUL "Mbpp/2"), first 48 bits / 2^48: a change of hash, separator or scaling moves every task.
    expect(partitionPoint('Mbpp/2', 'seed-1')).toBe(0.27907713866973793);
    expect(partitionOf('HumanEval/0', 0)).toBe('validation');
    const ids = tasksOf('mbpp').map((t) => t.id);
    expect(ids.map((id) => partitionOf(id, 7))).toEqual(ids.map((id) => partitionOf(id, 7)));
    // Another seed reshuffles.
    expect(ids.map((id) => partitionOf(id, 8))).not.toEqual(ids.map((id) => partitionOf(id, 7)));
  });

  it('roughly respect the fractions on MBPP (974) and are disjoint and complete', () => {
    const tasks = tasksOf('mbpp');
    const parts = PARTITIONS.map((p) => selectPartition(tasks, p, 'flowreasoner'));
    const sizes = parts.map((p) => p.length / tasks.length);
    expect(sizes[0]).toBeCloseTo(DEFAULT_FRACTIONS.train, 1);
    expect(sizes[1]).toBeCloseTo(DEFAULT_FRACTIONS.validation, 1);
    expect(sizes[2]).toBeCloseTo(DEFAULT_FRACTIONS.test, 1);
    const seen = new Set<string>();
    for (const p of parts) for (const t of p) {
      expect(seen.has(t.id)).toBe(false);
      seen.add(t.id);
    }
    expect(seen.size).toBe(tasks.length);
    // Removing tasks does not move the others.
    const half = selectPartition(tasks.slice(0, 400), 'test', 'flowreasoner');
    expect(half).toEqual(parts[2]?.filter((t) => tasks.indexOf(t) < 400));
  });

  it('reject fractions that do not sum to 1', () => {
    expect(() => partitionOf('x', 1, { train: 0.5, validation: 0.1, test: 0.1 })).toThrow(expect.objectContaining({ code: 'usage' }));
    expect(() => selectPartition([], 'test', 1, { train: -0.5, validation: 0.5, test: 1 })).toThrow(expect.objectContaining({ code: 'usage' }));
  });
});
