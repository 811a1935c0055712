// Takes the code a worker meant out of its free-form reply (flowreasoner.md §6, without the cubic scan): fences first, then parsing runs of lines.
import { sharedAnalysisClient, type ExtractedCode, type AnalysisClient, type RequestOptions } from '../code-analysis/client.ts';

export type { ExtractedCode } from '../code-analysis/client.ts';

export interface ExtractCodeOptions extends RequestOptions {
  client?: AnalysisClient;
}

/**
 * How the code analysis service picks the code (all parsing by Python's own ast; nothing is run):
 *
 * 1. Fenced blocks tagged python/py (or untagged) that parse. With an entry point, the LAST such block that
 *    defines it is the primary one (later blocks revise earlier drafts); otherwise the one with the most
 *    non-blank lines (the first on a tie).
 * 2. If no fenced block qualifies (or none defines the entry point), runs of lines that parse, found by a
 *    near-linear scan: a run starts at an unindented line, a window of lines is parsed and doubled while it parses
 *    (or while the parser only says the window cut a statement short), and a real error bounds the run, after a
 *    few error-guided steps back to the longest parsing prefix. The scan then resumes after the run. Each line is
 *    parsed O(log n) times in the usual case, and a character budget (40× the reply) caps adversarial ones, so a
 *    5,000-line reply takes a fraction of a second where EvalPlus's all-pairs scan is O(n³).
 * 3. From the primary block: every import, and the top-level definitions (def, class, assignment) reachable from
 *    the entry point by name; names it uses but does not define are looked up in the other blocks (latest first),
 *    which joins a helper block to the main one. Calls, prints and `if __name__ == "__main__":` blocks are dropped
 *    (sys.setrecursionlimit calls are kept: deep-recursion solutions need them). Without an entry point, or when
 *    the primary block does not define it, all its definitions are kept. All definitions of a reachable name are
 *    kept in source order, so the last one wins as it would at run time.
 * 4. If that keeps no function or class (a script), the primary block's text itself; "" when nothing parses.
 */
export async function extractCodeDetailed(text: string, entryPoint?: string, opts: ExtractCodeOptions = {}): Promise<ExtractedCode> {
  const client = opts.client ?? sharedAnalysisClient();
  return client.extractCode(text, entryPoint, opts);
}

/** The extracted code ("" when the reply holds no Python). */
export async function extractCode(text: string, entryPoint?: string, opts: ExtractCodeOptions = {}): Promise<string> {
  return (await extractCodeDetailed(text, entryPoint, opts)).code;
}
