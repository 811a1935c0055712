// Finds an MBPP task's entry point: the top-level function of the reference code that the first assert calls (MBPP has no entry_point field).
import { callsName } from './check-asserts.ts';

/** The one function defined at column 0 of `code` that `firstAssert` calls; undefined when none or several match. */
export function mbppEntryPoint(code: string, firstAssert: string): string | undefined {
  const defined = [...code.replace(/\r\n/g, '\n').matchAll(/^def\s+([A-Za-z_]\w*)\s*\(/gm)].map((m) => m[1] as string);
  const called = [...new Set(defined)].filter((name) => callsName(firstAssert, name));
  return called.length === 1 ? called[0] : undefined;
}
