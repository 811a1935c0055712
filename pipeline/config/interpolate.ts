// ${VAR} and ${VAR:-default} interpolation of environment variables in config string values.

export interface InterpolationProblem {
  path: Array<string | number>;
  variable: string;
}

export interface InterpolationResult {
  value: unknown;
  /** Every variable that was substituted, with the key paths that used it. */
  used: Map<string, Array<Array<string | number>>>;
  missing: InterpolationProblem[];
}

const PATTERN = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Replace `${VAR}` in every string of a plain JSON-like tree; `$${` escapes a literal `${`. */
export function interpolateEnv(value: unknown, env: NodeJS.ProcessEnv): InterpolationResult {
  const used = new Map<string, Array<Array<string | number>>>();
  const missing: InterpolationProblem[] = [];
  const walk = (v: unknown, path: Array<string | number>): unknown => {
    if (typeof v === 'string') {
      return v.replace(PATTERN, (match, name: string | undefined, fallback: string | undefined) => {
        if (match === '$${') return '${';
        if (name === undefined) return match;
        const found = env[name];
        if (found !== undefined && found !== '') {
          const paths = used.get(name) ?? [];
          paths.push(path);
          used.set(name, paths);
          return found;
        }
        if (fallback !== undefined) return fallback;
        missing.push({ path, variable: name });
        return match;
      });
    }
    if (Array.isArray(v)) return v.map((item, i) => walk(item, [...path, i]));
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v)) out[k] = walk(item, [...path, k]);
      return out;
    }
    return v;
  };
  return { value: walk(value, []), used, missing };
}
