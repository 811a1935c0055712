// `npm run build`, and `prepare` after `npm ci`: compiles the TypeScript sources to dist/ (tsconfig.build.json) so that
// the bin and the npm scripts start without transpiling. `--if-stale` skips the build when dist/ is current.
import { spawnSync } from 'node:child_process';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { DIST, REPO, STAMP, distState, sourceSnapshot } from './dist.mjs';

if (process.argv.includes('--if-stale') && distState() === 'fresh') process.exit(0);

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  // An install without dev dependencies still works: the bin then runs the sources through tsx.
  process.stderr.write('build: typescript is not installed (dev dependency), so dist/ is not built; the bin runs the sources through tsx.\n');
  process.exit(0);
}

const config = JSON.parse(readFileSync(path.join(REPO, 'tsconfig.build.json'), 'utf8'));
// Taken before compiling: a source edited during the build then differs from the stamp, and dist/ counts as stale.
const sources = sourceSnapshot(config.include);
// Built beside dist/ and swapped in whole, so a concurrent run never loads half a build.
const fresh = `${DIST}.tmp-${process.pid}`;
const old = `${DIST}.old-${process.pid}`;
rmSync(fresh, { recursive: true, force: true });
const t0 = performance.now();
const r = spawnSync(process.execPath, [tsc, '-p', path.join(REPO, 'tsconfig.build.json'), '--outDir', fresh], { cwd: REPO, stdio: 'inherit' });
if (r.status !== 0) {
  rmSync(fresh, { recursive: true, force: true });
  process.stderr.write(`build: tsc failed (exit ${r.status ?? r.signal}); dist/ is unchanged and the bin runs the sources through tsx until a build succeeds.\n`);
  process.exit(1);
}
writeFileSync(path.join(fresh, STAMP), `${JSON.stringify({ roots: config.include, sources })}\n`);
rmSync(old, { recursive: true, force: true });
try {
  renameSync(DIST, old);
} catch (e) {
  if (e.code !== 'ENOENT') throw e;
}
renameSync(fresh, DIST);
rmSync(old, { recursive: true, force: true });
process.stdout.write(`build: dist/ from ${Object.keys(sources).length} sources in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
