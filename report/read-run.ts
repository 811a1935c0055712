// Reads a run directory into what the report shows: small extracts of each stage's files, with what was missing or torn.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { loadJson, streamJsonl, type JsonlRead, type Loaded } from './load.ts';
import {
  CallLineSchema,
  DistillSummarySchema,
  EvalResultsSchema,
  GrpoMetricsSchema,
  RoundLineSchema,
  RunJsonSchema,
  SftSampleSchema,
  SftStatsSchema,
  TraceLineSchema,
  type DistillSummary,
  type EvalResults,
  type GrpoMetrics,
  type RunJson,
  type SftStats,
} from './records.ts';

export const STAGES = ['distill', 'sft', 'grpo', 'eval'] as const;
export type Stage = (typeof STAGES)[number];

/** One round, reduced to what the charts use. */
export interface RoundPoint {
  queryId: string;
  round: number;
  valid: boolean;
  score: number | null;
  outcomes: string[];
}

export interface TraceInfo {
  queryId: string;
  dataset: string | null;
  taskId: string | null;
  bestRound: number;
  seedScore: number;
  bestScore: number;
  hiddenScore: number;
  stopReason: string | null;
  rounds: number;
  cost: number | null;
  /** The best round's workflow; kept only for the leading traces (see KEEP_TRACES). */
  best: { round: number; graph: string; prompt: string; modification: string } | null;
}

export interface DistillData {
  rounds: RoundPoint[];
  roundsRead: JsonlRead;
  traces: TraceInfo[];
  tracesRead: JsonlRead;
  summary: Loaded<DistillSummary>;
}

export interface SftSampleFile {
  file: string;
  shape: 'single-turn' | 'multi-turn';
  split: 'train' | 'validation';
  tokens: number[];
  read: JsonlRead;
}

export interface SftData {
  stats: Loaded<SftStats>;
  charsPerToken: number;
  samples: SftSampleFile[];
}

export interface GrpoData {
  metrics: GrpoMetrics[];
  metricsRead: JsonlRead;
  summary: Loaded<Record<string, unknown>>;
}

export interface CallsData {
  read: JsonlRead;
  /** Cost and call count per role and stage. */
  byRoleStage: Array<{ role: string; stage: string; calls: number; cost: number }>;
}

export interface RunData {
  dir: string;
  runJson: Loaded<RunJson>;
  /** `run.name` of the frozen config.yaml, when it has one. */
  configName: string | null;
  calls: CallsData;
  /** null: the run has no folder for that stage. */
  distill: DistillData | null;
  sft: SftData | null;
  grpo: GrpoData | null;
  eval: { results: Loaded<EvalResults> } | null;
}

/** How many traces' best workflows the report draws. */
export const TOP_TRACES = 3;
/** Leaders kept with their workflow text while reading: more than drawn, as several may share one workflow (the seed). */
const KEEP_TRACES = TOP_TRACES * 4;

const isDir = async (p: string): Promise<boolean> => (await stat(p).catch(() => null))?.isDirectory() ?? false;
const isFile = async (p: string): Promise<boolean> => (await stat(p).catch(() => null))?.isFile() ?? false;

/** Files that mark a stage's folder as a stage's output (a folder merely named `eval/`, as in configs/, is not one). */
const STAGE_MARKERS: Record<Stage, readonly string[]> = {
  distill: ['rounds.jsonl', 'traces.jsonl', 'summary.json'],
  sft: ['stats.json'],
  grpo: ['metrics.jsonl', 'summary.json'],
  eval: ['results.json', 'samples.jsonl'],
};

/** Why `dir` is not a run directory (no run.json and no stage output), or null when it is one. */
export async function runDirProblem(dir: string): Promise<string | null> {
  if (!(await isDir(dir))) return (await stat(dir).catch(() => null)) === null ? `no such directory: ${dir}` : `not a directory: ${dir}`;
  if (await isFile(path.join(dir, 'run.json'))) return null;
  for (const s of STAGES) for (const f of STAGE_MARKERS[s]) if (await isFile(path.join(dir, s, f))) return null;
  return `not a run directory (no run.json, and no stage output such as distill/traces.jsonl or eval/results.json): ${dir}`;
}

/**
 * Best first: hidden score, then public score, then the gain over the seed workflow (among equals, a workflow the
 * teacher improved says more than the seed), then query id (a stable order for ties).
 */
export function compareTraces(a: TraceInfo, b: TraceInfo): number {
  const gain = (t: TraceInfo): number => t.bestScore - t.seedScore;
  return b.hiddenScore - a.hiddenScore || b.bestScore - a.bestScore || gain(b) - gain(a) || (a.queryId < b.queryId ? -1 : a.queryId > b.queryId ? 1 : 0);
}

async function readDistill(dir: string): Promise<DistillData> {
  const byKey = new Map<string, RoundPoint>();
  const roundsRead = await streamJsonl(path.join(dir, 'rounds.jsonl'), RoundLineSchema, (r) => {
    // Keyed so that a round written twice (a resumed run) counts once, as its last record.
    byKey.set(`${r.queryId}\u0000${r.round}`, { queryId: r.queryId, round: r.round, valid: r.valid, score: r.score, outcomes: r.attempts.map((a) => a.outcome) });
  });
  const traces: TraceInfo[] = [];
  const top: TraceInfo[] = [];
  const tracesRead = await streamJsonl(path.join(dir, 'traces.jsonl'), TraceLineSchema, (t) => {
    const bestRound = t.rounds.find((r) => r.round === t.bestRound) ?? null;
    const info: TraceInfo = {
      queryId: t.queryId,
      dataset: t.dataset ?? null,
      taskId: t.taskId ?? null,
      bestRound: t.bestRound,
      seedScore: t.seedScore,
      bestScore: t.bestScore,
      hiddenScore: t.hiddenScore,
      stopReason: t.stopReason ?? null,
      rounds: t.rounds.length,
      cost: t.cost ?? null,
      best: null,
    };
    traces.push(info);
    if (bestRound === null) return;
    // Only the leaders keep their workflow text, so memory does not grow with the number of traces.
    top.push({ ...info, best: { round: bestRound.round, graph: bestRound.graph, prompt: bestRound.prompt, modification: bestRound.modification ?? '' } });
    top.sort(compareTraces);
    top.length = Math.min(top.length, KEEP_TRACES);
  });
  const leaders = new Map(top.map((t) => [t.queryId, t]));
  return {
    rounds: [...byKey.values()],
    roundsRead,
    traces: traces.map((t) => leaders.get(t.queryId) ?? t),
    tracesRead,
    summary: await loadJson(path.join(dir, 'summary.json'), DistillSummarySchema),
  };
}

/** The SFT files whose samples are counted, with the shape and split they hold. */
const SFT_SAMPLE_FILES: ReadonlyArray<Pick<SftSampleFile, 'file' | 'shape' | 'split'>> = [
  { file: 'train.messages.jsonl', shape: 'single-turn', split: 'train' },
  { file: 'val.messages.jsonl', shape: 'single-turn', split: 'validation' },
  { file: 'train.multiturn.messages.jsonl', shape: 'multi-turn', split: 'train' },
  { file: 'val.multiturn.messages.jsonl', shape: 'multi-turn', split: 'validation' },
];

/** The default of sft.charsPerToken (sft/config-schema.ts), for an export whose stats.json is missing. */
export const DEFAULT_CHARS_PER_TOKEN = 3.5;

/** Tokens of one sample as sft counts them (sft/token-count.ts conversationTokens): each text rounded up on its own. */
export function sampleTokens(messages: ReadonlyArray<{ content: string; reasoning_content?: string | undefined }>, charsPerToken: number): number {
  const count = (t: string): number => Math.ceil(t.length / charsPerToken);
  return messages.reduce((n, m) => n + count(m.content) + (m.reasoning_content === undefined ? 0 : count(m.reasoning_content)), 0);
}

async function readSft(dir: string): Promise<SftData> {
  const stats = await loadJson(path.join(dir, 'stats.json'), SftStatsSchema);
  const charsPerToken = (stats.state === 'ok' ? stats.value.config?.charsPerToken : undefined) ?? DEFAULT_CHARS_PER_TOKEN;
  const samples: SftSampleFile[] = [];
  for (const f of SFT_SAMPLE_FILES) {
    const tokens: number[] = [];
    const read = await streamJsonl(path.join(dir, f.file), SftSampleSchema, (s) => tokens.push(sampleTokens(s.messages, charsPerToken)));
    samples.push({ ...f, tokens, read });
  }
  return { stats, charsPerToken, samples };
}

async function readGrpo(dir: string): Promise<GrpoData> {
  const bySteps = new Map<number, GrpoMetrics>();
  const metricsRead = await streamJsonl(path.join(dir, 'metrics.jsonl'), GrpoMetricsSchema, (m) => bySteps.set(m.step, m));
  return {
    metrics: [...bySteps.values()].sort((a, b) => a.step - b.step),
    metricsRead,
    summary: await loadJson(path.join(dir, 'summary.json'), z.record(z.string(), z.unknown())),
  };
}

async function readCalls(file: string): Promise<CallsData> {
  const sums = new Map<string, { role: string; stage: string; calls: number; cost: number }>();
  const read = await streamJsonl(file, CallLineSchema, (c) => {
    const stage = c.stage ?? 'other';
    const key = `${c.role}\u0000${stage}`;
    const s = sums.get(key) ?? { role: c.role, stage, calls: 0, cost: 0 };
    s.calls += 1;
    s.cost += c.cost;
    sums.set(key, s);
  });
  return { read, byRoleStage: [...sums.values()] };
}

async function readConfigName(file: string): Promise<string | null> {
  try {
    const doc = parseYaml(await readFile(file, 'utf8')) as unknown;
    const name = z.object({ run: z.object({ name: z.string() }) }).safeParse(doc);
    return name.success ? name.data.run.name : null;
  } catch {
    // The name is a nicety of the header: an unreadable config.yaml leaves it out (run.json still names the files).
    return null;
  }
}

export async function readRun(dir: string): Promise<RunData> {
  const at = (...p: string[]): string => path.join(dir, ...p);
  return {
    dir,
    runJson: await loadJson(at('run.json'), RunJsonSchema),
    configName: await readConfigName(at('config.yaml')),
    calls: await readCalls(at('calls.jsonl')),
    distill: (await isDir(at('distill'))) ? await readDistill(at('distill')) : null,
    sft: (await isDir(at('sft'))) ? await readSft(at('sft')) : null,
    grpo: (await isDir(at('grpo'))) ? await readGrpo(at('grpo')) : null,
    eval: (await isDir(at('eval'))) ? { results: await loadJson(at('eval', 'results.json'), EvalResultsSchema) } : null,
  };
}
