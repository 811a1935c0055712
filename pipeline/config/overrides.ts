// Command-line overrides of any config key: `--set grpo.groupSize=16`.
import { parse as parseYaml } from 'yaml';
import { PipelineError } from '../errors.ts';

export interface Override {
  path: Array<string | number>;
  value: unknown;
  raw: string;
}

/** Parse `a.b.c=value`; the value is read as a YAML scalar or flow collection, so numbers, booleans and [lists] work. */
export function parseOverride(raw: string): Override {
  const eq = raw.indexOf('=');
  if (eq <= 0) {
    throw new PipelineError('usage', `--set expects key.path=value, got "${raw}"`, { hint: 'Example: --set models.worker.limits.concurrency=16' });
  }
  const key = raw.slice(0, eq).trim();
  const text = raw.slice(eq + 1);
  if (!/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/.test(key)) {
    throw new PipelineError('usage', `--set: "${key}" is not a dotted key path`, { hint: 'Example: --set grpo.groupSize=16' });
  }
  let value: unknown;
  try {
    value = text === '' ? '' : parseYaml(text);
  } catch {
    value = text;
  }
  const path = key.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  return { path, value, raw };
}

/** Set a value at a path in a plain tree, creating objects on the way; returns a new tree. */
export function applyOverride(tree: unknown, ov: Override): unknown {
  const root: unknown = structuredClone(tree ?? {});
  let node = root as Record<string | number, unknown>;
  ov.path.forEach((seg, i) => {
    const last = i === ov.path.length - 1;
    if (last) {
      node[seg] = ov.value;
      return;
    }
    const next = node[seg];
    if (next === null || typeof next !== 'object') node[seg] = {};
    node = node[seg] as Record<string | number, unknown>;
  });
  return root;
}
