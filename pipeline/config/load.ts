// Loads a config: YAML file(s) with `extends`, ${ENV} interpolation, FLOWREASONER_* env, --set overrides, then zod validation.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { ConfigError, type ConfigProblem } from './config-error.ts';
import { ConfigSchema, type Config } from './schema.ts';
import { interpolateEnv } from './interpolate.ts';
import { applyOverride, parseOverride } from './overrides.ts';
import { deepMerge, isPlainObject } from './merge.ts';
import { formatIssues, keyPath } from './format-issues.ts';
import { allowedKeys } from './schema-walk.ts';

export interface LoadConfigOptions {
  /** YAML file; when absent the schema defaults are used. */
  file?: string;
  /** `key.path=value` strings, applied last. */
  overrides?: string[];
  env?: NodeJS.ProcessEnv;
}

export interface SourceFile {
  path: string;
  text: string;
}

export interface LoadedConfig {
  config: Config;
  /** The entry file, or null when none was given. */
  file: string | null;
  /** What the config was built from, so a resumed run can rebuild it with the current environment. */
  source: { files: SourceFile[]; overrides: string[] };
  /** Key paths whose values came from environment variables, by variable name. */
  envPaths: Map<string, string[]>;
}

interface ParsedFile {
  path: string;
  text: string;
  doc: Document.Parsed;
  counter: LineCounter;
}

async function readYaml(file: string): Promise<ParsedFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError([{ file, key: '', message: code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? String(e)})` }], 'config-not-found');
  }
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((err) => ({ file, key: '', line: err.linePos?.[0]?.line, message: `YAML syntax: ${err.message.split('\n')[0] ?? err.message}` })),
    );
  }
  return { path: file, text, doc, counter };
}

function lineIn(pf: ParsedFile, p: readonly PropertyKey[]): number | undefined {
  // Walk up the path until a node exists: an unknown nested key still points at its nearest parent.
  for (let n = p.length; n >= 0; n--) {
    const node = pf.doc.getIn(p.slice(0, n) as Array<string | number>, true) as { range?: [number, number, number] } | undefined;
    if (node?.range !== undefined) return pf.counter.linePos(node.range[0]).line;
  }
  return undefined;
}

export async function loadConfig(opts: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const env = opts.env ?? process.env;
  const files: ParsedFile[] = [];
  let raw: unknown = {};
  if (opts.file !== undefined) {
    const chain: ParsedFile[] = [];
    let next: string | undefined = path.resolve(opts.file);
    while (next !== undefined) {
      if (chain.some((f) => f.path === next)) {
        throw new ConfigError([{ file: next, key: 'extends', message: 'circular extends' }]);
      }
      const pf = await readYaml(next);
      chain.push(pf);
      const js: unknown = pf.doc.toJS();
      if (js !== null && js !== undefined && !isPlainObject(js)) {
        throw new ConfigError([{ file: pf.path, key: '', message: 'expected a mapping at the top level' }]);
      }
      const ext = isPlainObject(js) ? js.extends : undefined;
      if (ext !== undefined && typeof ext !== 'string') {
        throw new ConfigError([{ file: pf.path, key: 'extends', line: lineIn(pf, ['extends']), message: 'expected a file path' }]);
      }
      next = ext === undefined ? undefined : path.resolve(path.dirname(pf.path), ext);
    }
    // Parents first, so children win.
    for (const pf of chain.reverse()) {
      const js = (pf.doc.toJS() ?? {}) as Record<string, unknown>;
      delete js.extends;
      raw = deepMerge(raw, js);
      files.push(pf);
    }
  }

  const { value: interpolated, used, missing } = interpolateEnv(raw, env);
  const entry = files.at(-1) ?? null;
  const lineOf = (p: readonly PropertyKey[]): number | undefined => (entry === null ? undefined : lineIn(entry, p));
  if (missing.length > 0) {
    throw new ConfigError(
      missing.map((m) => {
        const line = lineOf(m.path);
        return {
          file: entry?.path ?? null,
          key: keyPath(m.path),
          ...(line !== undefined ? { line } : {}),
          message: `environment variable ${m.variable} is not set`,
        };
      }),
      'env-missing',
    );
  }

  let tree = interpolated;
  const dataDir = env.FLOWREASONER_DATA_DIR;
  if (dataDir !== undefined && dataDir !== '') tree = applyOverride(tree, { path: ['data', 'dir'], value: dataDir, raw: 'FLOWREASONER_DATA_DIR' });
  const overrides = opts.overrides ?? [];
  for (const o of overrides) tree = applyOverride(tree, parseOverride(o));

  const parsed = ConfigSchema.safeParse(tree, { reportInput: true });
  if (!parsed.success) {
    const problems: ConfigProblem[] = formatIssues(parsed.error.issues, entry?.path ?? null, (p) => allowedKeys(ConfigSchema, p), lineOf);
    throw new ConfigError(problems);
  }
  const envPaths = new Map<string, string[]>();
  for (const [name, paths] of used) envPaths.set(name, paths.map(keyPath));
  return {
    config: parsed.data,
    file: entry?.path ?? null,
    source: { files: files.map((f) => ({ path: f.path, text: f.text })), overrides },
    envPaths,
  };
}

/** Whether the user chose a value for this key (in a config file of the chain, or with --set), rather than the default. */
export function isExplicitlySet(loaded: LoadedConfig, keys: readonly string[]): boolean {
  const dotted = keys.join('.');
  if (loaded.source.overrides.some((o) => parseOverride(o).path.join('.') === dotted)) return true;
  return loaded.source.files.some((f) => parseDocument(f.text).hasIn(keys));
}
