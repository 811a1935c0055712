// Where a module's non-TypeScript siblings (Python runners, scripts) live: beside its .ts source, also when the module runs compiled from dist/.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// This file is <repo>/pipeline/source-dir.ts, or <repo>/dist/pipeline/source-dir.js once built (tsconfig.build.json), and
// dist/ holds only JavaScript: assets are read from the sources so that there is one copy of each to keep current.
const compiled = import.meta.url.endsWith('.js');
export const REPO_ROOT = path.resolve(import.meta.dirname, compiled ? '../..' : '..');
const DIST = path.join(REPO_ROOT, 'dist');

/** The source folder of the module at `moduleUrl` (pass `import.meta.url`). */
export function sourceDirOf(moduleUrl: string): string {
  const dir = path.dirname(fileURLToPath(moduleUrl));
  const rel = path.relative(DIST, dir);
  return compiled && !rel.startsWith('..') && !path.isAbsolute(rel) ? path.join(REPO_ROOT, rel) : dir;
}
