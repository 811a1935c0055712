// Navigates a zod schema by key path: which keys an object at that path allows (for typo hints and docs).
import { z } from 'zod';

type AnySchema = z.core.$ZodType;

function unwrap(s: AnySchema): AnySchema {
  let cur = s;
  for (let i = 0; i < 20; i++) {
    const def = cur._zod.def as { type: string; innerType?: AnySchema; in?: AnySchema };
    if (def.innerType !== undefined) cur = def.innerType;
    else if (def.type === 'pipe' && def.in !== undefined) cur = def.in;
    else break;
  }
  return cur;
}

/** The schema that validates the value at `path`, or undefined when the path leaves the schema. */
export function schemaAt(root: AnySchema, path: readonly PropertyKey[]): AnySchema | undefined {
  let cur: AnySchema | undefined = unwrap(root);
  for (const seg of path) {
    if (cur === undefined) return undefined;
    const def = cur._zod.def as { type: string; shape?: Record<string, AnySchema>; valueType?: AnySchema; element?: AnySchema; options?: AnySchema[] };
    if (def.type === 'object' && def.shape !== undefined) cur = def.shape[String(seg)];
    else if (def.type === 'record') cur = def.valueType;
    else if (def.type === 'array') cur = def.element;
    else if (def.type === 'union' && def.options !== undefined) {
      // Take the first object-like branch: good enough for key suggestions.
      const branch: AnySchema | undefined = def.options.map(unwrap).find((o) => (o._zod.def as { type: string }).type === 'object');
      cur = branch === undefined ? undefined : schemaAt(branch, [seg]);
    } else return undefined;
    cur = cur === undefined ? undefined : unwrap(cur);
  }
  return cur;
}

export function allowedKeys(root: AnySchema, path: readonly PropertyKey[]): string[] {
  const s = schemaAt(root, path);
  if (s === undefined) return [];
  const def = s._zod.def as { type: string; shape?: Record<string, AnySchema> };
  return def.type === 'object' && def.shape !== undefined ? Object.keys(def.shape) : [];
}
