// `npm run bench:startup`: how long the real bin takes to answer `--help`, for the program and for every command, which
// is the start-up each command pays before its real work. Last line: `startup: N ms`, the slowest of those medians.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const args = process.argv.slice(2);
if (args.includes('--help')) {
  process.stdout.write('Usage: npm run bench:startup [-- --runs N] [--bin PATH]\nMedian wall time of `flowreasoner --help` and of `flowreasoner <command> --help` for every command;\nthe last line is `startup: N ms`, the largest of those medians.\n');
  process.exit(0);
}
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] ?? fallback : fallback);
const runs = Number(option('--runs', '11')) || 11;
// --bin measures another checkout's bin (a before/after comparison on the same machine).
const bin = path.resolve(option('--bin', path.join(import.meta.dirname, '..', 'flowreasoner.mjs')));

function timeOnce(argv) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [bin, ...argv], { encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`flowreasoner ${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms, stdout: r.stdout, stderr: r.stderr };
}

const first = timeOnce(['--help']);
// The stale-dist notice means the figures would measure tsx, not the build users run.
if (first.stderr.includes('through tsx')) process.stdout.write(`note: ${first.stderr.trim()}\n`);
const commands = [...first.stdout.split('Commands:\n')[1]?.matchAll(/^ {2}([a-z][\w-]*)/gm) ?? []].map((m) => m[1]).filter((n) => n !== 'help');
const cases = [[], ...commands.map((c) => [c])];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const samples = cases.map(() => []);
// Interleaved, so that a burst of load on the machine spreads over every command instead of landing on one.
for (let i = 0; i < runs; i++) cases.forEach((c, j) => samples[j].push(timeOnce([...c, '--help']).ms));

process.stdout.write(`bin: ${path.relative(process.cwd(), bin)}, ${runs} runs each, median wall ms (node itself: ${median(Array.from({ length: 5 }, () => timeNode())).toFixed(0)} ms)\n`);
const medians = cases.map((c, j) => median(samples[j]));
cases.forEach((c, j) => process.stdout.write(`  flowreasoner ${[...c, '--help'].join(' ').padEnd(28)} ${medians[j].toFixed(0).padStart(6)} ms\n`));
process.stdout.write(`startup: ${Math.max(...medians).toFixed(0)} ms\n`);

function timeNode() {
  const t0 = performance.now();
  spawnSync(process.execPath, ['-e', ''], { encoding: 'utf8' });
  return performance.now() - t0;
}
