// How numbers read in the report: fixed decimals, dollars, percentages, and a dash for a value the run lacks.

export const DASH = '—';

export function num(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return DASH;
  if (Number.isInteger(x)) return x.toLocaleString('en-US');
  return x.toFixed(digits);
}

export function int(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? DASH : Math.round(x).toLocaleString('en-US');
}

export function usd(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return DASH;
  return `$${x.toFixed(Math.abs(x) < 1 ? 4 : 2)}`;
}

export function pct(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined || !Number.isFinite(x) ? DASH : `${(x * 100).toFixed(digits)}%`;
}

/** `{a: 2, b: 1}` as `a 2, b 1`, largest first; an empty record as a dash. */
export function counts(r: Record<string, number> | null | undefined): string {
  const e = Object.entries(r ?? {}).sort((a, b) => b[1] - a[1]);
  return e.length === 0 ? DASH : e.map(([k, v]) => `${k} ${num(v)}`).join(', ');
}

/** p-values the way papers print them: small ones as `< 0.001`. */
export function pValue(p: number): string {
  return p < 0.001 ? '< 0.001' : p.toFixed(3);
}
