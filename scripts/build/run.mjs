// Runs a TypeScript script of this repository for an npm script (`node scripts/build/run.mjs scripts/bench/x.ts ARGS`):
// compiled from dist/ when that is fresh, else the source through tsx.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO, entryFile } from './dist.mjs';

const [tsFile, ...args] = process.argv.slice(2);
if (tsFile === undefined || !tsFile.endsWith('.ts')) {
  process.stderr.write('usage: node scripts/build/run.mjs <file.ts> [args...]\n');
  process.exit(2);
}
const file = await entryFile(path.relative(REPO, path.resolve(tsFile)), tsFile);
// The script sees itself as the entry point, as under `tsx file.ts`: its argv and its own isEntry check.
process.argv = [process.argv[0] ?? process.execPath, file, ...args];
await import(pathToFileURL(file).href);
