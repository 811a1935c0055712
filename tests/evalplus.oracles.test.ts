// EvalPlus special oracles end to end: for each special-oracle MBPP+ task and HumanEval/32, a right and a wrong whole solution through the executor's hidden job.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBenchmark } from '../datasets/registry.ts';
import { assembleProgram, jobFor, type Task } from '../datasets/task.ts';
import { Executor } from '../pipeline/sandbox/executor.ts';
import { sharedDatasets } from './helpers/tmp.ts';

/**
 * Each right solution is chosen so that only the special oracle accepts it on at least one input (different order or
 * type for set-equality tasks, bool instead of re.Match for not-None tasks, the alternative formula for 558 and 581,
 * another root for find_zero); each wrong one fails some input under every rule.
 */
const ORACLE_CASES: Record<string, { right: string; wrong: string }> = {
  'Mbpp/2': {
    // A list, largest first: set equality only (the reference returns a tuple in set order).
    right: 'def similar_elements(a, b):\n    return sorted(set(a) & set(b), reverse=True)\n',
    wrong: 'def similar_elements(a, b):\n    return tuple(set(a) | set(b))\n',
  },
  'Mbpp/7': {
    right: 'import re\ndef find_char_long(text):\n    return list(reversed(re.findall(r"\\b\\w{4,}\\b", text)))\n',
    wrong: 'def find_char_long(text):\n    return [w for w in text.split() if len(w) > 4]\n',
  },
  'Mbpp/111': {
    right: [
      'def common_in_nested_lists(nested):',
      '    common = set(nested[0])',
      '    for other in nested[1:]:',
      '        common &= set(other)',
      '    return tuple(common)',
      '',
    ].join('\n'),
    wrong: 'def common_in_nested_lists(nested):\n    return list(set().union(*map(set, nested)))\n',
  },
  'Mbpp/140': {
    // Duplicates kept: equal as sets only.
    right: 'def extract_singly(test_list):\n    return [x for sub in test_list for x in sub]\n',
    wrong: 'def extract_singly(test_list):\n    return {sub[0] for sub in test_list if sub}\n',
  },
  'Mbpp/232': {
    right: 'def larg_nnum(list1, n):\n    return sorted(list1, reverse=True)[:max(n, 0)][::-1]\n',
    wrong: 'def larg_nnum(list1, n):\n    return sorted(list1)[:n]\n',
  },
  'Mbpp/558': {
    // Pads the shorter number with zeros (the accepted reading; the reference zips the digits unpadded).
    right: [
      'def digit_distance_nums(n1, n2):',
      '    a, b = str(n1), str(n2)',
      '    w = max(len(a), len(b))',
      '    a, b = a.rjust(w, "0"), b.rjust(w, "0")',
      '    return sum(abs(int(x) - int(y)) for x, y in zip(a, b))',
      '',
    ].join('\n'),
    wrong: 'def digit_distance_nums(n1, n2):\n    return abs(n1 - n2)\n',
  },
  'Mbpp/579': {
    right: 'def find_dissimilar(a, b):\n    return [x for x in a if x not in b] + [x for x in b if x not in a]\n',
    wrong: 'def find_dissimilar(a, b):\n    return tuple(set(a) & set(b))\n',
  },
  'Mbpp/581': {
    // `height` read as the perpendicular height (the accepted reading; the reference treats it as the slant height).
    right: [
      'import math',
      'def surface_Area(b, h):',
      '    slant = math.sqrt((b / 2) ** 2 + h ** 2)',
      '    return round(b ** 2 + 4 * (b * slant) / 2)',
      '',
    ].join('\n'),
    wrong: 'def surface_Area(b, s):\n    return b * s\n',
  },
  'Mbpp/737': {
    // A bool where the reference returns a re.Match or None.
    right: 'def check_str(string):\n    return len(string) > 0 and string[0] in "aeiouAEIOU"\n',
    wrong: 'def check_str(string):\n    return None\n',
  },
  'Mbpp/769': {
    right: 'def Diff(li1, li2):\n    return [x for x in li2 if x not in li1] + [x for x in li1 if x not in li2]\n',
    wrong: 'def Diff(li1, li2):\n    return list(set(li1) - set(li2))\n',
  },
  'Mbpp/787': {
    right: 'def text_match_three(text):\n    return "abbb" in text\n',
    wrong: 'def text_match_three(text):\n    return "a" in text\n',
  },
  'Mbpp/794': {
    // A string or None where the reference returns a re.Match or None.
    right: 'import re\ndef text_starta_endb(text):\n    return "yes" if re.search(r"a.*b$", text) else None\n',
    wrong: 'def text_starta_endb(text):\n    return text.startswith("a") and text.endswith("b")\n',
  },
  'HumanEval/32': {
    // Not the reference's Newton steps: a grid scan for the sign change nearest 0, bisected down to adjacent floats,
    // then the end with the smaller |poly|. Another float than the reference's, judged by |poly(x)| <= atol.
    right: [
      'import math',
      'def _p(xs, x):',
      '    return sum([c * math.pow(x, i) for i, c in enumerate(xs)])',
      'def find_zero(xs):',
      '    bound = 1.0',
      '    while True:',
      '        pts = [bound * (k / 512.0 - 1.0) for k in range(1025)]',
      '        vals = [_p(xs, x) for x in pts]',
      '        for x, v in zip(pts, vals):',
      '            if v == 0:',
      '                return x',
      '        pairs = [(pts[k], pts[k + 1]) for k in range(1024) if vals[k] * vals[k + 1] < 0]',
      '        if pairs:',
      '            break',
      '        bound *= 2.0',
      '    lo, hi = min(pairs, key=lambda ab: abs(ab[0] + ab[1]))',
      '    while True:',
      '        mid = (lo + hi) / 2.0',
      '        if mid in (lo, hi):',
      '            break',
      '        if (_p(xs, mid) > 0) == (_p(xs, lo) > 0):',
      '            lo = mid',
      '        else:',
      '            hi = mid',
      '    return min((lo, hi), key=lambda x: abs(_p(xs, x)))',
      '',
    ].join('\n'),
    wrong: 'def find_zero(xs):\n    return 0.0\n',
  },
};

let ex: Executor;
let tasks: Map<string, Task>;
beforeAll(async () => {
  ex = new Executor({ workers: 2 });
  const all = [...(await loadBenchmark('mbpp-plus', { dataDir: sharedDatasets })), ...(await loadBenchmark('humaneval-plus', { dataDir: sharedDatasets }))];
  tasks = new Map(all.map((t) => [t.id, t]));
});
afterAll(async () => {
  await ex.close();
});

describe('EvalPlus special oracles through the executor (needs the comparer integration of the evalplus harness)', () => {
  it.each(Object.keys(ORACLE_CASES))('%s: the right solution passes base and plus, the wrong one fails', async (id) => {
    const task = tasks.get(id);
    const c = ORACLE_CASES[id];
    if (task === undefined || c === undefined) throw new Error(`no task ${id}`);
    expect(task.hiddenTests.harness).toBe('evalplus');
    const [right, wrong] = await Promise.all([
      ex.run(jobFor(task, assembleProgram(task, { solution: c.right }), 'hidden')),
      ex.run(jobFor(task, assembleProgram(task, { solution: c.wrong }), 'hidden')),
    ]);
    expect({ status: right.status, base: right.base, plus: right.plus, result: right.result }).toEqual({ status: 'pass', base: 'pass', plus: 'pass', result: 'passed' });
    expect(right.passed).toBe(true);
    expect(wrong.passed).toBe(false);
    expect(wrong.status).toBe('fail');
    expect([wrong.base, wrong.plus]).toContain('fail');
  }, 120_000);
});
