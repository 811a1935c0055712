// Loads a config: YAML file(s) with `extends`, ${ENV} interpolation, FLOWREASONER_* env, --set overrides, then zod validation.
import { open } from 'node:fs/promises';
import path from 'node:path';
import { isAlias, isMap, isScalar, LineCounter, parseDocument, visit, type Document } from 'yaml';
import { ConfigError, MAX_LISTED_PROBLEMS, whereOf, type ConfigProblem } from './config-error.ts';
import type { z } from 'zod';
import { interpolateEnv } from './interpolate.ts';
import { applyOverride, parseOverride } from './overrides.ts';
import { deepMerge, isPlainObject } from './merge.ts';
import { formatIssues, keyPath } from './format-issues.ts';
import { allowedKeys } from './schema-walk.ts';
import { Locator, type LocatedOverride, type Origin } from './locate.ts';

/**
 * Shipped configs are a few KB. yaml parses about 1 MB a second, so this keeps the worst file that still loads to
 * about a second, and rejects a runaway one at once.
 */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** yaml's guard against alias bombs ("billion laughs"), made explicit: 100 is its default. */
const MAX_ALIAS_COUNT = 100;

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

/** A loaded config; C is the composed schema's output (pipeline/cli/config.ts names the project's). */
export interface LoadedConfig<C = unknown> {
  config: C;
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
  /** The document as plain data (null for an empty file). */
  js: unknown;
}

function bytes(n: number): string {
  return `${n.toLocaleString('en-US')} bytes`;
}

/** Reads at most MAX_CONFIG_BYTES + 1 bytes, so a huge file, a pipe or /dev/zero cannot stall the load. */
async function readCapped(file: string, namedBy: string | undefined): Promise<string> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const by = namedBy !== undefined ? ` (named by extends: at ${namedBy})` : '';
    throw new ConfigError([{ file, key: '', message: code === 'ENOENT' ? `not found: ${file}${by}` : `cannot read ${file}${by} (${code ?? String(e)})` }], 'config-not-found');
  }
  const tooBig = (size: string): ConfigError =>
    new ConfigError([{ file, key: '', message: `the file is ${size}; a config may be at most ${bytes(MAX_CONFIG_BYTES)}` }]);
  try {
    const st = await fh.stat();
    if (st.isFile() && st.size > MAX_CONFIG_BYTES) throw tooBig(bytes(st.size));
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.alloc(64 * 1024);
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > MAX_CONFIG_BYTES) throw tooBig(`over ${bytes(MAX_CONFIG_BYTES)}`);
      chunks.push(buf.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks).toString('utf8');
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError([{ file, key: '', message: `cannot read ${file} (${code ?? String(e)})` }], 'config-not-found');
  } finally {
    await fh.close();
  }
}

/** A problem at an offset of a file, placed by line and column. */
function at(file: string, counter: LineCounter, offset: number | undefined, key: string, message: string): ConfigProblem {
  if (offset === undefined) return { file, key, message };
  const { line, col } = counter.linePos(offset);
  return { file, key, line, col, message };
}

/**
 * Duplicate keys and aliases without an anchor, in one pass. yaml's own uniqueKeys check compares every key with every
 * earlier one (quadratic: minutes on a large map), and an unresolved alias only surfaces in toJS, as a ReferenceError.
 */
function structureProblems(pf: Omit<ParsedFile, 'js'>): { problems: ConfigProblem[]; total: number } {
  const problems: ConfigProblem[] = [];
  let total = 0;
  const report = (offset: number | undefined, message: string): void => {
    total++;
    if (problems.length < MAX_LISTED_PROBLEMS) problems.push(at(pf.path, pf.counter, offset, '', message));
  };
  const anchors = new Set<string>();
  visit(pf.doc, {
    Node(_key, node) {
      if (isAlias(node)) {
        if (!anchors.has(node.source)) report(node.range?.[0], `YAML: alias *${node.source} has no anchor &${node.source} before it`);
      } else if (node.anchor !== undefined) anchors.add(node.anchor);
      if (isMap(node)) {
        const seen = new Set<unknown>();
        for (const pair of node.items) {
          if (!isScalar(pair.key)) continue;
          const k = pair.key.value;
          if (seen.has(k)) report(pair.key.range?.[0], `YAML: duplicate key "${String(k)}"`);
          seen.add(k);
        }
      }
    },
  });
  return { problems, total };
}

async function readYaml(file: string, namedBy?: string): Promise<ParsedFile> {
  const text = await readCapped(file, namedBy);
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: false });
  if (doc.errors.length > 0) {
    // Without prettyErrors yaml leaves linePos unset: place each error from its offset.
    const problems = doc.errors.map((err) => at(file, counter, err.pos[0], '', `YAML syntax: ${err.message.split('\n')[0] ?? err.message}`));
    throw new ConfigError(problems);
  }
  const structure = structureProblems({ path: file, text, doc, counter });
  if (structure.total > 0) throw new ConfigError(structure.problems, 'config-invalid', structure.total);
  let js: unknown;
  try {
    js = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    // yaml throws ReferenceError for an alias bomb; anything else thrown here is still a fault of the file.
    const why = e instanceof ReferenceError && /alias count/i.test(e.message) ? `YAML aliases expand too far (more than ${MAX_ALIAS_COUNT} alias uses): remove the repeated *aliases` : `YAML: ${e instanceof Error ? e.message : String(e)}`;
    throw new ConfigError([{ file, key: '', message: why }]);
  }
  return { path: file, text, doc, counter, js };
}

/** Loads and validates against `schema`, the composed config schema (the engine does not know the stages' sections). */
export async function loadConfigWith<S extends z.ZodType>(schema: S, opts: LoadConfigOptions = {}): Promise<LoadedConfig<z.output<S>>> {
  const env = opts.env ?? process.env;
  const files: ParsedFile[] = [];
  let raw: unknown = {};
  if (opts.file !== undefined) {
    const chain: ParsedFile[] = [];
    let next: string | undefined = path.resolve(opts.file);
    // Where the last file's `extends:` is, to blame it for a missing or circular parent.
    let extWhere: Origin | undefined;
    while (next !== undefined) {
      if (chain.some((f) => f.path === next)) {
        throw new ConfigError([{ ...extWhere, file: chain.at(-1)?.path ?? next, key: 'extends', message: `circular extends: ${next} is already in the chain` }]);
      }
      const namedBy = extWhere === undefined ? undefined : whereOf(extWhere);
      const pf = await readYaml(next, namedBy);
      chain.push(pf);
      const js = pf.js;
      if (js !== null && js !== undefined && !isPlainObject(js)) {
        throw new ConfigError([{ file: pf.path, key: '', message: 'expected a mapping at the top level' }]);
      }
      const ext = isPlainObject(js) ? js.extends : undefined;
      extWhere = new Locator([pf]).origin(['extends']);
      if (ext !== undefined && typeof ext !== 'string') {
        throw new ConfigError([{ ...extWhere, file: pf.path, key: 'extends', message: 'expected a file path' }]);
      }
      next = ext === undefined ? undefined : path.resolve(path.dirname(pf.path), ext);
    }
    // Parents first, so children win.
    for (const pf of chain.reverse()) {
      const js = { ...((pf.js ?? {}) as Record<string, unknown>) };
      delete js.extends;
      raw = deepMerge(raw, js);
      files.push(pf);
    }
  }

  const { value: interpolated, used, missing } = interpolateEnv(raw, env);
  const entry = files.at(-1) ?? null;
  if (missing.length > 0) {
    const where = new Locator(files);
    throw new ConfigError(
      missing.slice(0, MAX_LISTED_PROBLEMS).map((m) => ({ ...where.origin(m.path), key: keyPath(m.path), message: `environment variable ${m.variable} is not set` })),
      'env-missing',
      missing.length,
    );
  }

  let tree = interpolated;
  const applied: LocatedOverride[] = [];
  const dataDir = env.FLOWREASONER_DATA_DIR;
  if (dataDir !== undefined && dataDir !== '') {
    tree = applyOverride(tree, { path: ['data', 'dir'], value: dataDir, raw: 'FLOWREASONER_DATA_DIR' });
    applied.push({ path: ['data', 'dir'], label: 'FLOWREASONER_DATA_DIR' });
  }
  const overrides = opts.overrides ?? [];
  for (const o of overrides) {
    const ov = parseOverride(o);
    tree = applyOverride(tree, ov);
    applied.push({ path: ov.path, label: `--set ${o}` });
  }

  const parsed = schema.safeParse(tree, { reportInput: true });
  if (!parsed.success) {
    const where = new Locator(files, applied);
    const { problems, total } = formatIssues(parsed.error.issues, (p) => allowedKeys(schema, p), (p) => where.origin(p));
    throw new ConfigError(problems, 'config-invalid', total);
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
export function isExplicitlySet(loaded: LoadedConfig<unknown>, keys: readonly string[]): boolean {
  const dotted = keys.join('.');
  if (loaded.source.overrides.some((o) => parseOverride(o).path.join('.') === dotted)) return true;
  return loaded.source.files.some((f) => parseDocument(f.text, { uniqueKeys: false }).hasIn(keys));
}
