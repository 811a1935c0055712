// Whether dist/ (scripts/build/build.mjs) matches the sources, and loading an entry point from it or, when it does not, from the sources through tsx.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export const REPO = path.resolve(import.meta.dirname, '../..');
export const DIST = path.join(REPO, 'dist');
/** Written last by the build: the roots it compiled and the sources as they were when it started. */
export const STAMP = 'build-stamp.json';
const BUILD_CONFIGS = ['tsconfig.json', 'tsconfig.build.json'];

/** Size and mtime of every .ts file under `roots` and of the build configs; any edit, addition or removal changes it. */
export function sourceSnapshot(roots) {
  const files = [...BUILD_CONFIGS];
  for (const root of roots) {
    for (const f of readdirSync(path.join(REPO, root), { recursive: true })) if (f.endsWith('.ts')) files.push(path.join(root, f));
  }
  const snap = {};
  for (const f of files.sort()) {
    const s = statSync(path.join(REPO, f));
    snap[f] = `${s.size}:${s.mtimeMs}`;
  }
  return snap;
}

/** 'fresh', 'missing' or 'stale'. Stats the sources (a few ms), which is what makes running stale code impossible. */
export function distState() {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(path.join(DIST, STAMP), 'utf8'));
  } catch {
    return 'missing';
  }
  const now = sourceSnapshot(stamp.roots);
  const keys = Object.keys(now);
  const same = keys.length === Object.keys(stamp.sources).length && keys.every((k) => stamp.sources[k] === now[k]);
  return same ? 'fresh' : 'stale';
}

/**
 * The file to import for `tsFile` (a path from the repository root): its compiled module when dist/ is fresh, else the
 * source itself with tsx registered, saying so on stderr, so that a developer who edited a .ts file gets the edit, only slower.
 */
export async function entryFile(tsFile, who) {
  const state = distState();
  const compiled = path.join(DIST, tsFile.replace(/\.ts$/, '.js'));
  if (state === 'fresh' && existsSync(compiled)) return compiled;
  const why = state === 'stale' ? 'dist/ is older than the sources' : `dist/ has no ${path.relative(REPO, compiled)}`;
  process.stderr.write(`${who}: ${why}, so this runs the TypeScript sources through tsx (slower start-up); \`npm run build\` brings dist/ up to date.\n`);
  const { register } = await import('tsx/esm/api');
  register();
  return path.join(REPO, tsFile);
}
