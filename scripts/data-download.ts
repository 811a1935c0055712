// `npm run data:download`: fetches the benchmark files into the data folder and checks each against its pinned sha256; exits 1 on any failure.
import { mkdir, access } from 'node:fs/promises';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { isPipelineError, PipelineError } from '../pipeline/errors.ts';
import { PINNED_FILES, pinnedFile, verifyFile } from '../datasets/checksums.ts';
import { resolveDataDir } from '../datasets/data-files.ts';
import { fetchVerified, formatBytes } from '../datasets/download.ts';
import { BENCHMARKS, benchmarkFiles } from '../datasets/registry.ts';
import { DATA_SOURCES, dataSource } from '../datasets/sources.ts';

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

interface Options {
  dir?: string;
  only?: string[];
  verifyOnly?: boolean;
}

/** File names for --only values: a file name, or a benchmark name standing for the files it reads. */
function selectFiles(only: string[] | undefined): string[] {
  if (only === undefined || only.length === 0) return DATA_SOURCES.filter((s) => s.needed).map((s) => s.file);
  const out: string[] = [];
  for (const name of only) {
    if (name in BENCHMARKS) {
      const files = name.startsWith('bigcodebench') ? [...benchmarkFiles(name, '0.1.4'), ...benchmarkFiles(name, '0.1.0')] : benchmarkFiles(name);
      out.push(...files);
    } else if (pinnedFile(name) !== undefined) out.push(name);
    else {
      throw new PipelineError('usage', `--only ${name}: not a benchmark or a known file`, {
        hint: `Benchmarks: ${Object.keys(BENCHMARKS).join(', ')}. Files: ${PINNED_FILES.map((p) => p.file).join(', ')}.`,
      });
    }
  }
  return [...new Set(out)];
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

/** One file: verify it, or download it when absent or wrong. Returns a failure message, or undefined when it is good. */
async function handle(file: string, dir: string, verifyOnly: boolean, line: (s: string) => void): Promise<string | undefined> {
  const pin = pinnedFile(file);
  const source = dataSource(file);
  if (pin === undefined || source === undefined) return `${file}: no pinned sha256 or source (internal table out of date)`;
  const target = path.join(dir, file);
  if (verifyOnly || (await exists(target))) {
    try {
      await verifyFile(target, pin.sha256);
      line(`${file}: ok (sha256 ${pin.sha256.slice(0, 12)}…)`);
      return undefined;
    } catch (e) {
      if (verifyOnly || !isPipelineError(e, 'checksum-mismatch')) return (e as Error).message;
      line(`${file}: present but its sha256 differs; downloading it again`);
    }
  }
  if (source.derived !== undefined) return `${file}: missing. ${source.derived}`;
  try {
    const got = await fetchVerified({ file, urls: source.urls, sha256: pin.sha256, dir, bytes: pin.bytes, onLine: line });
    line(`${file}: ok, ${formatBytes(got.bytes)} from ${got.url}`);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command('data:download')
    .description('Download the benchmark files into the data folder and check each against its pinned sha256.')
    .option('--dir <dir>', 'data folder (default: $FLOWREASONER_DATA_DIR, else ../shared/datasets)')
    .option('--only <name...>', 'only these files or benchmarks (e.g. humaneval, mbpp-plus, HumanEval.jsonl.gz)')
    .option('--verify-only', 'download nothing; check the files already there')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ npm run data:download -- --dir ~/data/flowreasoner',
        '  $ npm run data:download -- --only humaneval mbpp',
        '  $ npm run data:download -- --verify-only',
        '',
        'The BigCodeBench v0.1.4 and Hard files, the Hard id list and the import table are derived, not downloadable:',
        'copy them from the shared staging folder. Exit codes: 0 all files good, 1 a file failed, 2 usage error.',
      ].join('\n'),
    )
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });
  let opts: Options;
  try {
    program.parse(argv);
    opts = program.opts<Options>();
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    throw e;
  }
  let files: string[];
  try {
    files = selectFiles(opts.only);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${isPipelineError(e) && e.hint !== undefined ? `${e.hint}\n` : ''}`);
    return EXIT_USAGE;
  }
  const dir = resolveDataDir(opts.dir);
  const verifyOnly = opts.verifyOnly === true;
  if (!verifyOnly) await mkdir(dir, { recursive: true });
  process.stdout.write(`${verifyOnly ? 'verifying' : 'fetching'} ${files.length} files in ${dir}\n`);
  const failures: string[] = [];
  for (const [k, file] of files.entries()) {
    const tag = `[${k + 1}/${files.length}]`;
    const failure = await handle(file, dir, verifyOnly, (s) => process.stdout.write(`${tag} ${s}\n`));
    if (failure !== undefined) {
      failures.push(file);
      process.stderr.write(`${tag} FAILED ${failure}\n`);
    }
  }
  const good = files.length - failures.length;
  process.stdout.write(`${good}/${files.length} files good${failures.length > 0 ? `; failed: ${failures.join(', ')}` : ''}\n`);
  return failures.length === 0 ? EXIT_OK : EXIT_FAILED;
}

const isEntry = process.argv[1] !== undefined && import.meta.url === new URL(`file://${path.resolve(process.argv[1])}`).href;
if (isEntry) process.exitCode = await main(process.argv);
