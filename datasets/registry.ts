// The benchmark registry: every name we load, the files each needs, and one loadBenchmark() entry point.
import { PipelineError } from '../pipeline/errors.ts';
import { DATA_FILES, resolveDataDir } from './data-files.ts';
import { loadBigCodeBench, bigcodebenchFiles, BigCodeBenchVersionSchema, type BigCodeBenchVersion } from './loaders/bigcodebench.ts';
import { loadCustom } from './loaders/custom.ts';
import { loadHumanEval } from './loaders/humaneval.ts';
import { loadHumanEvalPlus } from './loaders/humaneval-plus.ts';
import { loadMbpp } from './loaders/mbpp.ts';
import { loadMbppPlus } from './loaders/mbpp-plus.ts';
import { loadMbppSanitized } from './loaders/mbpp-sanitized.ts';
import { SplitOptionSchema, type SplitOption } from './mbpp-split.ts';
import type { BenchmarkName, Task } from './task.ts';

export type UpstreamBenchmark = Exclude<BenchmarkName, 'custom'>;

export interface BenchmarkInfo {
  name: UpstreamBenchmark;
  description: string;
  /** Files read with the default version. */
  files: string[];
  /** Whether the official MBPP splits (`split` option) apply. */
  splits: boolean;
  /** Accepted `version` values, the first being the default; empty when there is one version. */
  versions: readonly string[];
  count: number;
}

export const BENCHMARKS: Readonly<Record<UpstreamBenchmark, BenchmarkInfo>> = {
  humaneval: { name: 'humaneval', description: 'HumanEval (openai/human-eval)', files: [DATA_FILES.humaneval], splits: false, versions: [], count: 164 },
  'humaneval-plus': {
    name: 'humaneval-plus',
    description: 'HumanEval+ v0.1.10 (EvalPlus), oracle path (reference outputs)',
    files: [DATA_FILES.humanevalPlus],
    splits: false,
    versions: [],
    count: 164,
  },
  mbpp: { name: 'mbpp', description: 'MBPP, original (google-research)', files: [DATA_FILES.mbpp], splits: true, versions: [], count: 974 },
  'mbpp-sanitized': { name: 'mbpp-sanitized', description: 'MBPP, sanitized (google-research)', files: [DATA_FILES.mbppSanitized], splits: true, versions: [], count: 427 },
  'mbpp-plus': {
    name: 'mbpp-plus',
    description: 'MBPP+ v0.2.0 (EvalPlus), oracle path (reference outputs)',
    files: [DATA_FILES.mbppPlus, DATA_FILES.mbppPlusOriginFmt],
    splits: true,
    versions: [],
    count: 378,
  },
  bigcodebench: {
    name: 'bigcodebench',
    description: 'BigCodeBench (complete), v0.1.4 reconstructed or v0.1.0_hf',
    files: bigcodebenchFiles(),
    splits: false,
    versions: BigCodeBenchVersionSchema.options,
    count: 1140,
  },
  'bigcodebench-hard': {
    name: 'bigcodebench-hard',
    description: 'BigCodeBench-Hard (complete), v0.1.4 reconstructed or v0.1.0_hf filtered by the Hard ids',
    files: bigcodebenchFiles({ hard: true }),
    splits: false,
    versions: BigCodeBenchVersionSchema.options,
    count: 148,
  },
};

export const BENCHMARK_LIST: readonly BenchmarkInfo[] = Object.values(BENCHMARKS);

export interface LoadOptions {
  /** The data folder; defaults to $FLOWREASONER_DATA_DIR, else ../shared/datasets. */
  dataDir?: string;
  /** MBPP family only: one official split, or 'all' (the default). */
  split?: SplitOption;
  /** BigCodeBench only: '0.1.4' (default, reconstructed) or '0.1.0' (the verbatim v0.1.0_hf file). */
  version?: string;
}

/** The files a load of `name` reads (for `custom:FILE`, that file). */
export function benchmarkFiles(name: string, version?: string): string[] {
  if (name.startsWith('custom:')) return [name.slice('custom:'.length)];
  const info = infoOf(name);
  if (info.versions.length > 0) return bigcodebenchFiles({ version: bcbVersion(name, version), hard: info.name === 'bigcodebench-hard' });
  return [...info.files];
}

/** Every task of a benchmark, in file order; `custom:FILE` reads our JSONL format from FILE. */
export async function loadBenchmark(name: BenchmarkName | `custom:${string}` | string, opts: LoadOptions = {}): Promise<Task[]> {
  if (name.startsWith('custom:')) {
    const file = name.slice('custom:'.length);
    if (file === '') throw new PipelineError('usage', 'custom: needs a file, as in custom:tasks.jsonl');
    rejectOptions(name, opts, false, false);
    return loadCustom(file);
  }
  const info = infoOf(name);
  rejectOptions(name, opts, info.splits, info.versions.length > 0);
  const dataDir = resolveDataDir(opts.dataDir);
  const split = opts.split === undefined ? undefined : parseSplit(opts.split);
  switch (info.name) {
    case 'humaneval':
      return loadHumanEval(dataDir);
    case 'humaneval-plus':
      return loadHumanEvalPlus(dataDir);
    case 'mbpp':
      return loadMbpp(dataDir, { split });
    case 'mbpp-sanitized':
      return loadMbppSanitized(dataDir, { split });
    case 'mbpp-plus':
      return loadMbppPlus(dataDir, { split });
    case 'bigcodebench':
    case 'bigcodebench-hard':
      return loadBigCodeBench(dataDir, { version: bcbVersion(name, opts.version), hard: info.name === 'bigcodebench-hard' });
  }
}

function infoOf(name: string): BenchmarkInfo {
  const info = (BENCHMARKS as Record<string, BenchmarkInfo | undefined>)[name];
  if (info === undefined) {
    throw new PipelineError('usage', `unknown benchmark "${name}"`, {
      hint: `Use one of: ${Object.keys(BENCHMARKS).join(', ')}, or custom:FILE for your own JSONL tasks.`,
    });
  }
  return info;
}

function parseSplit(split: string): SplitOption {
  const r = SplitOptionSchema.safeParse(split);
  if (!r.success) throw new PipelineError('usage', `unknown split "${split}"`, { hint: `Use one of: ${SplitOptionSchema.options.join(', ')}.` });
  return r.data;
}

function bcbVersion(name: string, version: string | undefined): BigCodeBenchVersion {
  if (version === undefined) return '0.1.4';
  const r = BigCodeBenchVersionSchema.safeParse(version.replace(/^v/, '').replace(/_hf$/, ''));
  if (!r.success) throw new PipelineError('usage', `${name}: unknown version "${version}"`, { hint: `Use one of: ${BigCodeBenchVersionSchema.options.join(', ')}.` });
  return r.data;
}

/** Options that do not apply to a benchmark are usage errors, so a typo cannot silently load the wrong set. */
function rejectOptions(name: string, opts: LoadOptions, splits: boolean, versions: boolean): void {
  if (!splits && opts.split !== undefined && opts.split !== 'all') {
    throw new PipelineError('usage', `${name} has no official splits (split "${opts.split}")`, { hint: 'Only mbpp, mbpp-sanitized and mbpp-plus take --split; use partitions for the others.' });
  }
  if (!versions && opts.version !== undefined) {
    throw new PipelineError('usage', `${name} has one version; --version "${opts.version}" does not apply`, { hint: 'Only bigcodebench and bigcodebench-hard take a version.' });
  }
}
