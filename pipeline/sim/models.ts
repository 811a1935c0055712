// Which role and reasoning channel a model name gets: the configured table first, then name conventions.
import type { ModelSpec, ReasoningFormat, Role } from './options.ts';

export interface ResolvedModel {
  role: Role;
  reasoningFormat: ReasoningFormat;
}

/** Names every simulator answers to, listed by /v1/models even when nothing is configured. */
export const DEFAULT_MODEL_NAMES = ['sim-meta-agent', 'sim-worker'] as const;

const META_HINTS = ['meta', 'teacher', 'policy', 'r1'];

/** undefined means the server must answer 404 model_not_found, as vLLM does for unknown names. */
export function resolveModel(name: string, table: Record<string, ModelSpec>): ResolvedModel | undefined {
  const spec = Object.hasOwn(table, name) ? table[name] : undefined;
  if (spec) return { role: spec.role, reasoningFormat: spec.reasoningFormat ?? defaultFormat(spec.role) };
  const lower = name.toLowerCase();
  if (META_HINTS.some((h) => lower.includes(h))) return { role: 'meta-agent', reasoningFormat: 'reasoning_content' };
  if (lower.includes('worker')) return { role: 'worker', reasoningFormat: 'none' };
  return undefined;
}

function defaultFormat(role: Role): ReasoningFormat {
  return role === 'meta-agent' ? 'reasoning_content' : 'none';
}

export function listModelNames(table: Record<string, ModelSpec>): string[] {
  return [...new Set([...Object.keys(table), ...DEFAULT_MODEL_NAMES])];
}
