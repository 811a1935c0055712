// Our replacement for HumanEval/32's broken OriginFmt test: EvalPlus's find_zero oracle over the base and plus inputs.
import { toPythonLiteral } from './python-literal.ts';

export const FIND_ZERO_TASK_ID = 'HumanEval/32';
export const FIND_ZERO_REPLACEMENT = 'find_zero oracle';
/** HumanEval+ stores atol 1e-4 for this task; EvalPlus passes an output x iff |poly(xs, x)| <= atol. */
export const FIND_ZERO_ATOL = 1e-4;

/**
 * A test in the OriginFmt shape the `evalplus` harness instruments (inputs, results, an `assertion` helper, one loop
 * line per input, inside `check(candidate)`), whose oracle is |poly(xs, candidate(xs))| <= 1e-4 for every input.
 * Upstream's OriginFmt line `_poly(*candidate(*inp), inp)` unpacks a float and raises TypeError even for the reference.
 * The polynomial is our own copy of the prompt's `poly` under a private name, so a candidate that redefines `poly`
 * cannot change the verdict (EvalPlus also evaluates with its own helper).
 */
export function findZeroOracleTest(inputs: unknown[][]): string {
  const results = inputs.map(() => '0.0');
  return [
    '',
    'import math',
    '',
    '',
    'def _fr_poly(xs, x):',
    '    return sum([coeff * math.pow(x, i) for i, coeff in enumerate(xs)])',
    '',
    '',
    'def assertion(out, exp, atol):',
    '    assert abs(out - exp) <= atol',
    '',
    '',
    'def check(candidate):',
    `    inputs = ${toPythonLiteral(inputs)}`,
    `    results = [${results.join(', ')}]`,
    '    for i, (inp, exp) in enumerate(zip(inputs, results)):',
    `        assertion(_fr_poly(*inp, candidate(*inp)), exp, ${FIND_ZERO_ATOL})`,
    '',
  ].join('\n');
}
