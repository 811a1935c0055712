// Tasks whose tests must run in the candidate's process, because they pass or inspect objects that are not plain data.
/**
 * Every other check/asserts task is judged outside the candidate's process (pipeline/sandbox/py/fr_comparer.py): the
 * candidate only answers calls with plain data. These tests build objects of classes that the solution or the test
 * setup defines and hand them to the solution, which plain data cannot carry. The list was found by running every
 * reference solution judged outside; tests/evaluate.reference.test.ts keeps it honest (each reference passes).
 */
export const MBPP_JUDGED_INSIDE: Readonly<Record<number, string>> = {
  367: 'test_setup_code builds binary trees of its own Node class',
  601: 'the asserts build Pair objects of the class the solution defines',
  927: 'test_setup_code builds binary trees of its own Node class',
};
