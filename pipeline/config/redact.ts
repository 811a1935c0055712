// A copy of the resolved config that is safe to freeze in a run directory: no API keys, no secret env values, no header values.
import { looksSecretName, redactUrl } from '../secrets.ts';
import type { LoadedConfig } from './load.ts';

function setPath(tree: Record<string, unknown>, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let node: unknown = tree;
  for (const p of parts.slice(0, -1)) {
    if (node === null || typeof node !== 'object') return;
    node = (node as Record<string, unknown>)[p];
  }
  const last = parts.at(-1);
  if (last !== undefined && node !== null && typeof node === 'object' && last in node) (node as Record<string, unknown>)[last] = value;
}

function walk(v: unknown, keyName: string | null): unknown {
  if (typeof v === 'string') {
    if (keyName !== null && looksSecretName(keyName) && !keyName.endsWith('Env')) return '<redacted>';
    return /^https?:\/\//.test(v) ? redactUrl(v) : v;
  }
  if (Array.isArray(v)) return v.map((x) => walk(x, keyName));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      out[k] = k === 'headers' && x !== null && typeof x === 'object' ? Object.fromEntries(Object.keys(x).map((h) => [h, '<redacted>'])) : walk(x, k);
    }
    return out;
  }
  return v;
}

export function redactedConfig(loaded: LoadedConfig): Record<string, unknown> {
  const copy = walk(structuredClone(loaded.config), null) as Record<string, unknown>;
  for (const [name, paths] of loaded.envPaths) {
    if (!looksSecretName(name)) continue;
    for (const p of paths) setPath(copy, p, `<redacted:${name}>`);
  }
  return copy;
}
