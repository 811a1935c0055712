// EvalPlus inputs for the sandbox: the raw-field scanner, the base-then-plus JSON text, and every HumanEval+/MBPP+ task's inputs read by Python exactly as the dataset stores them.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { inputsJsonText } from '../datasets/evalplus-inputs.ts';
import { rawJsonField } from '../datasets/raw-json-field.ts';
import { loadBenchmark } from '../datasets/registry.ts';
import { PipelineError } from '../pipeline/errors.ts';
import { sharedDatasets } from './helpers/tmp.ts';

describe('rawJsonField', () => {
  it('returns the exact text of a top-level field, whatever its kind', () => {
    const line = '{"a": [1, {"x": "]}"}, 12345678901234567890], "s" : "q\\"uote}", "n":-1.5e300,"inf": [NaN, -Infinity], "t": true, "o": {}}';
    expect(rawJsonField(line, 'a')).toBe('[1, {"x": "]}"}, 12345678901234567890]');
    expect(rawJsonField(line, 's')).toBe('"q\\"uote}"');
    expect(rawJsonField(line, 'n')).toBe('-1.5e300');
    expect(rawJsonField(line, 'inf')).toBe('[NaN, -Infinity]');
    expect(rawJsonField(line, 't')).toBe('true');
    expect(rawJsonField(line, 'o')).toBe('{}');
    expect(rawJsonField(line, 'x')).toBeUndefined();
    expect(rawJsonField('{}', 'a')).toBeUndefined();
  });

  it('matches keys by their decoded text, ignores nested keys, and takes the last of repeated keys', () => {
    expect(rawJsonField('{"b": {"a": 1}, "\\u0061": 2}', 'a')).toBe('2');
    expect(rawJsonField('{"a": 1, "a": [2]}', 'a')).toBe('[2]');
  });

  it('throws on what is not a JSON object', () => {
    expect(() => rawJsonField('[1]', 'a')).toThrow(/not a JSON object/);
    expect(() => rawJsonField('{"a": [1, 2', 'a')).toThrow(/unterminated/);
    expect(() => rawJsonField('{"a" 1}', 'a')).toThrow(/expected ":"/);
  });
});

describe('inputsJsonText', () => {
  const place = { file: 'f.jsonl', line: 3 };
  it('joins base then plus into one list, keeps number text, reads a JSON-string field, skips {} and empty lists', () => {
    const text = '{"base_input": [[9007199254740993], [1.10]], "plus_input": [[Infinity]]}';
    expect(inputsJsonText({ ...place, value: null, text }, ['base_input', 'plus_input'])).toBe('[[9007199254740993], [1.10], [Infinity]]');
    const text2 = '{"base_input": "[[1, 2]]", "plus_input": {}}';
    expect(inputsJsonText({ ...place, value: null, text: text2 }, ['base_input', 'plus_input'])).toBe('[[1, 2]]');
    const text3 = '{"base_input": [], "plus_input": [ ]}';
    expect(inputsJsonText({ ...place, value: null, text: text3 }, ['base_input', 'plus_input'])).toBe('[]');
  });

  it('is a data-invalid error naming the field when the text is missing or not a list', () => {
    const err = (text: string | undefined): unknown => {
      try {
        inputsJsonText({ ...place, value: null, ...(text === undefined ? {} : { text }) }, ['base_input']);
      } catch (e) {
        return e;
      }
      return undefined;
    };
    for (const text of [undefined, '{"other": 1}', '{"base_input": 5}']) {
      const e = err(text);
      expect(e).toBeInstanceOf(PipelineError);
      expect(e).toMatchObject({ code: 'data-invalid', message: expect.stringContaining('f.jsonl:3: field "base_input"') });
    }
  });
});

describe('every EvalPlus task: Python reads inputsJson as the dataset stores base_input + plus_input', () => {
  it.each([
    ['humaneval-plus', 'HumanEvalPlus-v0.1.10.jsonl.gz'],
    ['mbpp-plus', 'MbppPlus-v0.2.0.jsonl.gz'],
  ] as const)('%s', async (name, file) => {
    const tasks = await loadBenchmark(name, { dataDir: sharedDatasets });
    // repr, not ==: it tells 1 from 1.0 and sees NaN; the dataset side is Python's own json on the whole line.
    const script = [
      'import gzip, json, sys',
      'rows = {}',
      'for line in gzip.open(sys.argv[1], "rt"):',
      '    if line.strip():',
      '        d = json.loads(line)',
      '        inputs = [x for f in ("base_input", "plus_input") for x in (d[f] if isinstance(d[f], list) else [])]',
      '        rows[d["task_id"]] = (repr(inputs), len(d["base_input"]))',
      'bad = []',
      'tasks = json.load(sys.stdin)',
      'for t in tasks:',
      '    got = (repr(json.loads(t["inputsJson"])), t["baseCount"])',
      '    if got != rows.get(t["id"]):',
      '        bad.append(t["id"])',
      'print(json.dumps({"n": len(tasks), "bad": bad, "missing": sorted(set(rows) - {t["id"] for t in tasks})}))',
    ].join('\n');
    const input = JSON.stringify(tasks.map((t) => ({ id: t.id, inputsJson: t.hiddenTests.inputsJson, baseCount: t.hiddenTests.baseCount })));
    const r = spawnSync('/usr/bin/python3', ['-c', script, `${sharedDatasets}/${file}`], { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ n: tasks.length, bad: [], missing: [] });
  }, 120_000);
});
