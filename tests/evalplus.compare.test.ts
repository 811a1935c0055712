// fr_evalplus.py through the system Python: MBPP+ input deserialisation, every special oracle and the atol rules, with the verdicts EvalPlus's source gives.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/tmp.ts';

const PY_DIR = path.join(repoRoot, 'pipeline', 'sandbox', 'py');

/** Evaluates each Python expression (with `fe` = fr_evalplus, `nan`, `inf`, `re`) and returns its repr, or `error: <Type>`. */
const DRIVER = [
  'import json, re, sys',
  'sys.path.insert(0, sys.argv[1])',
  'import fr_evalplus as fe',
  "ns = {'fe': fe, 're': re, 'nan': float('nan'), 'inf': float('inf')}",
  'out = []',
  'for expr in json.load(sys.stdin):',
  '    try:',
  '        out.append(repr(eval(expr, ns)))',
  '    except Exception as e:',
  "        out.append('error: ' + type(e).__name__)",
  'print(json.dumps(out))',
].join('\n');

function py(exprs: string[]): string[] {
  const r = spawnSync('/usr/bin/python3', ['-c', DRIVER, PY_DIR], { input: JSON.stringify(exprs), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python3 failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as string[];
}

/** Checks many [expression, expected repr] pairs in one Python run; a mismatch names its expression. */
function expectAll(cases: Array<[string, string]>): void {
  const got = py(cases.map(([e]) => e));
  expect(cases.map(([e], i) => [e, got[i]])).toEqual(cases);
}

const load = (dataset: string, id: string, json: string): string => `fe.load_inputs(${JSON.stringify(dataset)}, ${JSON.stringify(id)}, ${JSON.stringify(json)})`;

/** An is_output_ok call; inp, out and exp are Python source. */
function ok(dataset: 'mbpp' | 'humaneval', entry: string, inp: string, out: string, exp: string, atol = '0'): string {
  return `fe.is_output_ok('${dataset}', 'X/0', '${entry}', ${inp}, ${out}, ${exp}, ${atol})`;
}

describe('load_inputs (json, then mbpp_deserialize_inputs for MBPP+)', () => {
  it('rebuilds tuples by the rule of each listed task id, and leaves other tasks and HumanEval alone', () => {
    expectAll([
      // Mbpp/2: every argument list becomes a tuple.
      [load('mbpp', 'Mbpp/2', '[[[3, 4], [5, 6]]]'), '[[(3, 4), (5, 6)]]'],
      // Mbpp/63: the inner lists of every argument.
      [load('mbpp', 'Mbpp/63', '[[[[3, 5], [1, 7]]]]'), '[[[(3, 5), (1, 7)]]]'],
      // Mbpp/75: inner lists of the first argument; the second untouched.
      [load('mbpp', 'Mbpp/75', '[[[[6, 24], [7, 9]], 6]]'), '[[[(6, 24), (7, 9)], 6]]'],
      // Mbpp/106: the second argument.
      [load('mbpp', 'Mbpp/106', '[[[5, 6], [9, 10]]]'), '[[[5, 6], (9, 10)]]'],
      // Mbpp/250: the first argument.
      [load('mbpp', 'Mbpp/250', '[[[10, 8], 4]]'), '[[(10, 8), 4]]'],
      // Mbpp/259: two levels.
      [load('mbpp', 'Mbpp/259', '[[[[1, 3], [4, 5]], [[6, 7]]]]'), '[[((1, 3), (4, 5)), ((6, 7),)]]'],
      // Mbpp/278: list items of the first argument, then the argument itself.
      [load('mbpp', 'Mbpp/278', '[[[1, 5, [4, 6], 10]]]'), '[[(1, 5, (4, 6), 10)]]'],
      // Mbpp/307: the first of three arguments.
      [load('mbpp', 'Mbpp/307', '[[["H", "A"], 2, 50]]'), "[[('H', 'A'), 2, 50]]"],
      // Mbpp/722: dict values.
      [load('mbpp', 'Mbpp/722', '[[{"Cierra": [6.2, 70]}, 6.0, 70]]'), "[[{'Cierra': (6.2, 70)}, 6.0, 70]]"],
      // Mbpp/580: every list at any depth, the argument list included.
      [load('mbpp', 'Mbpp/580', '[[[4, 5, [7, 6, [2, 4]], 6]]]'), '[((4, 5, (7, 6, (2, 4)), 6),)]'],
      // Not listed: unchanged; HumanEval is never deserialised.
      [load('mbpp', 'Mbpp/3', '[[[1, 2]]]'), '[[[1, 2]]]'],
      [load('humaneval', 'HumanEval/2', '[[[1, 2]]]'), '[[[1, 2]]]'],
      // Mbpp/793's plus_input is {}: no inputs.
      [load('mbpp', 'Mbpp/793', '{}'), '[]'],
    ]);
  });

  it('Mbpp/115 sets (an empty item becomes {}, as upstream writes it), 124 and 252 complex numbers', () => {
    expectAll([
      [`[type(x).__name__ for x in ${load('mbpp', 'Mbpp/115', '[[[[1, 2], [], [3]]]]')}[0][0]]`, "['set', 'dict', 'set']"],
      [load('mbpp', 'Mbpp/115', '[[[[1, 2], [3]]]]'), '[[[{1, 2}, {3}]]]'],
      [load('mbpp', 'Mbpp/124', '[["0", "1j"], ["1e-100", "(-0-1e-16j)"]]'), '[(0.0, 1j), (1e-100, (-0-1e-16j))]'],
      [load('mbpp', 'Mbpp/252', '[[1], ["(2-5j)"]]'), '[[(1+0j)], [(2-5j)]]'],
    ]);
  });

  it('reads big ints exactly and NaN / Infinity as floats', () => {
    expectAll([
      [load('humaneval', 'HumanEval/0', '[[123456789012345678901234567890, -9007199254740993]]'), '[[123456789012345678901234567890, -9007199254740993]]'],
      [load('mbpp', 'Mbpp/404', '[[-Infinity, Infinity], [NaN, 0.5]]'), '[[-inf, inf], [nan, 0.5]]'],
    ]);
  });
});

describe('is_output_ok: MBPP special oracles (by entry point)', () => {
  it('are_equivalent (Mbpp/164) accepts anything; sum_div (295) also accepts 0', () => {
    expectAll([
      [ok('mbpp', 'are_equivalent', '[36, 57]', 'False', 'False'), 'True'],
      [ok('mbpp', 'are_equivalent', '[36, 57]', "'nonsense'", 'False'), 'True'],
      [ok('mbpp', 'sum_div', '[8]', '7', '7'), 'True'],
      [ok('mbpp', 'sum_div', '[8]', '0', '7'), 'True'],
      [ok('mbpp', 'sum_div', '[8]', '6', '7'), 'False'],
    ]);
  });

  it('surface_Area (581): the reference value, or round(b^2 + 2*b*slant) with slant from the perpendicular height', () => {
    // inp (3, 4): the reference gives 2*3*4 + 9 = 33; the oracle sqrt(1.5^2 + 4^2) = 4.272 → round(34.63) = 35.
    expectAll([
      [ok('mbpp', 'surface_Area', '[3, 4]', '33', '33'), 'True'],
      [ok('mbpp', 'surface_Area', '[3, 4]', '35', '33'), 'True'],
      [ok('mbpp', 'surface_Area', '[3, 4]', '34.63', '33'), 'False'],
      [ok('mbpp', 'surface_Area', '[3, 4]', '34', '33'), 'False'],
      [ok('mbpp', 'surface_Area', '[3, 4]', "'35'", '33'), 'False'],
    ]);
  });

  it('digit_distance_nums (558): the reference value, or the digit distance with zero padding', () => {
    // 123 vs 45: unpadded zip gives |1-4| + |2-5| = 6 (the reference); padded 123 vs 045 gives 1 + 2 + 2 = 5.
    expectAll([
      [ok('mbpp', 'digit_distance_nums', '[123, 45]', '6', '6'), 'True'],
      [ok('mbpp', 'digit_distance_nums', '[123, 45]', '5', '6'), 'True'],
      [ok('mbpp', 'digit_distance_nums', '[123, 45]', '7', '6'), 'False'],
    ]);
  });

  it.each(['similar_elements', 'find_char_long', 'common_in_nested_lists', 'extract_singly', 'larg_nnum', 'intersection_array', 'find_dissimilar', 'Diff'])(
    '%s: set equality replaces the exact match (order, duplicates and list/tuple/set type ignored)',
    (entry) => {
      expectAll([
        [ok('mbpp', entry, '[]', '[5, 4, 4]', '(4, 5)'), 'True'],
        [ok('mbpp', entry, '[]', '{4, 5}', '[4, 5]'), 'True'],
        [ok('mbpp', entry, '[]', '(4,)', '(4, 5)'), 'False'],
        [ok('mbpp', entry, '[]', 'None', '(4, 5)'), 'False'],
        // Replaced, not or-ed: an exact match of unhashable items still fails, because set() raises.
        [ok('mbpp', entry, '[]', '[[1], [2]]', '[[1], [2]]'), 'False'],
        // Upstream's atol step still follows: float items that differ as sets fall to allclose on the sequences.
        [ok('mbpp', entry, '[]', '[1.0, 2.0000000001]', '[1.0, 2.0]'), 'True'],
      ]);
      // Only MBPP has these oracles: in HumanEval the same entry point is compared exactly.
      expectAll([[ok('humaneval', entry, '[]', '[5, 4]', '[4, 5]'), 'False']]);
    },
  );

  it.each(['check_str', 'text_match_three', 'text_starta_endb'])('%s: expected is "the reference returned not None"; a bool must equal it, anything else counts by None-ness', (entry) => {
    const exp = (ref: string): string => `fe.expected_value('mbpp', '${entry}', ${ref})`;
    expectAll([
      [exp("re.search('a', 'annie')"), 'True'],
      [exp('None'), 'False'],
      [ok('mbpp', entry, "['annie']", "'a match'", exp("re.search('a', 'annie')")), 'True'],
      [ok('mbpp', entry, "['annie']", 'True', 'True'), 'True'],
      [ok('mbpp', entry, "['annie']", 'None', 'True'), 'False'],
      [ok('mbpp', entry, "['annie']", 'False', 'True'), 'False'],
      [ok('mbpp', entry, "['dawood']", 'None', 'False'), 'True'],
      [ok('mbpp', entry, "['dawood']", 'False', 'False'), 'True'],
      // 0 is not a bool and not None, so it counts as "found".
      [ok('mbpp', entry, "['dawood']", '0', 'False'), 'False'],
    ]);
  });

  it('expected_value leaves other tasks and HumanEval unchanged', () => {
    expectAll([
      ["fe.expected_value('mbpp', 'similar_elements', None)", 'None'],
      ["fe.expected_value('humaneval', 'check_str', None)", 'None'],
    ]);
  });
});

describe('is_output_ok: HumanEval find_zero (32)', () => {
  it('passes any x with |poly(xs, x)| <= atol, whatever the reference returned', () => {
    // xs = -6 + 11x - 6x^2 + x^3 = (x-1)(x-2)(x-3); poly'(1) = 2, so 1.00001 is off by 2e-5 and 1.001 by 2e-3.
    const fz = (out: string): string => ok('humaneval', 'find_zero', '[[-6, 11, -6, 1]]', out, '1.0000000001', '0.0001');
    expectAll([
      [fz('1.0'), 'True'],
      [fz('3.0'), 'True'],
      [fz('1.00001'), 'True'],
      [fz('1.001'), 'False'],
      [fz("'1.0'"), 'False'],
      [fz('None'), 'False'],
      // Only for HumanEval: an MBPP task named find_zero is compared normally.
      [ok('mbpp', 'find_zero', '[[-6, 11, -6, 1]]', '3.0', '1.0'), 'False'],
    ]);
  });
});

describe('is_output_ok: exact match and atol', () => {
  it('exact matches pass; a float (or list/tuple of floats) expected gets atol 1e-6 when the task has 0', () => {
    expectAll([
      [ok('mbpp', 'f', '[]', "'abc'", "'abc'"), 'True'],
      [ok('mbpp', 'f', '[]', '1', '1.0'), 'True'],
      [ok('mbpp', 'f', '[]', '1', 'True'), 'True'],
      [ok('mbpp', 'f', '[]', '0.3', '0.1 + 0.2'), 'True'],
      [ok('mbpp', 'f', '[]', '0.3000005', '0.3'), 'True'],
      [ok('mbpp', 'f', '[]', '0.3001', '0.3'), 'False'],
      [ok('mbpp', 'f', '[]', '[1.0, 2.0000001]', '[1.0, 2.0]'), 'True'],
      [ok('mbpp', 'f', '[]', '(1.0, 2.0000001)', '(1.0, 2.0)'), 'True'],
      // Not all floats (an int inside): no default, so exact.
      [ok('mbpp', 'f', '[]', '[1, 2.0000001]', '[1, 2.0]'), 'False'],
      // Ints are exact, however close.
      [ok('mbpp', 'f', '[]', '10**17 + 1', '10**17'), 'False'],
      [ok('mbpp', 'f', '[]', '[1, 2]', '(1, 2)'), 'False'],
    ]);
  });

  it('with an atol: equal types and lengths first, then allclose(rtol=1e-7); anything allclose rejects or cannot take fails', () => {
    expectAll([
      [ok('mbpp', 'f', '[]', '1.00005', '1.0', '0.0001'), 'True'],
      [ok('mbpp', 'f', '[]', '1.0002', '1.0', '0.0001'), 'False'],
      // Type mismatch: int 1 vs float 1.0000001 (not exact, so the type is checked).
      [ok('mbpp', 'f', '[]', '1', '1.0000001'), 'False'],
      [ok('mbpp', 'f', '[]', '[1.0, 2.0]', '(1.0, 2.0000001)'), 'False'],
      // Length mismatch: allclose alone would broadcast [1.0] against two items.
      [ok('mbpp', 'f', '[]', '[1.0]', '[1.0, 1.0000001]'), 'False'],
      // NaN never equals NaN, and allclose does not treat NaNs as equal (separate objects, as decoded outputs are:
      // a list holding the very same NaN object compares equal by identity).
      [ok('mbpp', 'f', '[]', "float('nan')", "float('nan')"), 'False'],
      [ok('mbpp', 'f', '[]', "[1.0, float('nan')]", "[1.0, float('nan')]"), 'False'],
      [ok('mbpp', 'f', '[]', 'inf', 'inf'), 'True'],
      // allclose raises on strings and dicts: not ok.
      [ok('mbpp', 'f', '[]', "'a'", "'b'", '0.0001'), 'False'],
      [ok('mbpp', 'f', '[]', "{'a': 1.0}", "{'a': 1.0000001}"), 'False'],
      [ok('mbpp', 'f', '[]', 'None', '1.0'), 'False'],
    ]);
  });

  it('check_output carries the raised atol to the next input of the run, as upstream\'s loop variable does', () => {
    expectAll([
      ["fe.check_output('mbpp', 'X/0', 'f', [], 1.5, 1.5, 0)", '(True, 1e-06)'],
      ["fe.check_output('mbpp', 'X/0', 'f', [], 7, 7, 0)", '(True, 0)'],
      // After a float input, near ints pass by allclose; with the task's own atol 0 they would not.
      ["fe.check_output('mbpp', 'X/0', 'f', [], 10**17 + 1, 10**17, 1e-06)", '(True, 1e-06)'],
      ["fe.check_output('mbpp', 'X/0', 'f', [], 10**17 + 1, 10**17, 0)", '(False, 0)'],
      // find_zero never changes it.
      ["fe.check_output('humaneval', 'X/0', 'find_zero', [[1, 2]], -0.5, -0.5, 0.0001)", '(True, 0.0001)'],
    ]);
  });
});
