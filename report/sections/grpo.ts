// The grpo section: per step, the reward and its components, pass rate, complexity, tokens, filtering, staleness and time.
import type { TopLevelSpec } from 'vega-lite';
import { chartFigure, type ChartSpec } from '../charts.ts';
import { counts, num } from '../format.ts';
import { html } from '../html.ts';
import { jsonNote, jsonlNote } from '../load.ts';
import type { GrpoData } from '../read-run.ts';
import type { GrpoMetrics } from '../records.ts';
import { addNote, addPart, facts, newSection, type Section } from '../section.ts';

type Row = Record<string, string | number>;

/** `{step, series, value}` rows for the named fields that a step has (a field a step lacks is left out, not zero). */
export function longRows(metrics: readonly GrpoMetrics[], fields: ReadonlyArray<readonly [string, (m: GrpoMetrics) => number | null | undefined]>): Row[] {
  const out: Row[] = [];
  for (const m of metrics) {
    for (const [series, get] of fields) {
      const v = get(m);
      if (typeof v === 'number' && Number.isFinite(v)) out.push({ step: m.step, series, value: v });
    }
  }
  return out;
}

const stepAxis = { tickMinStep: 1, format: 'd' } as const;
const stepX = { field: 'step', type: 'quantitative', title: 'step', axis: stepAxis, scale: { nice: false } } as const;

/** Bars over steps: discrete steps while few, a continuous axis once labels would crowd. */
const barStepX = (n: number) => (n <= 40 ? ({ field: 'step', type: 'ordinal', title: 'step', axis: { labelAngle: 0 } } as const) : stepX);

export async function grpoSection(d: GrpoData): Promise<Section> {
  const s = newSection('grpo', 'GRPO');
  addNote(s, jsonlNote(d.metricsRead, 'grpo/metrics.jsonl'));
  addNote(s, jsonNote(d.summary, 'grpo/summary.json'));

  if (d.summary.state === 'ok') {
    const rows = Object.entries(d.summary.value).map(([k, v]) => [k, typeof v === 'number' ? num(v, 4) : typeof v === 'object' && v !== null && !Array.isArray(v) ? counts(v as Record<string, number>) : String(v)] as const);
    addPart(s, 'Summary', facts(rows));
  }
  const m = d.metrics;
  if (m.length === 0) {
    if (d.metricsRead.present) addNote(s, 'grpo/metrics.jsonl has no step yet: no charts.');
    return s;
  }

  // A point per step helps while steps are few; with hundreds they only blot the line.
  const points = m.length <= 60;
  const charts: Array<[part: string, ChartSpec]> = [];
  const add = (part: string, id: string, title: string, caption: string, spec: TopLevelSpec): void => {
    charts.push([part, { id, title, caption, spec }]);
  };

  const rewards = m.filter((x) => typeof x.rewardMean === 'number').map((x) => ({ step: x.step, mean: x.rewardMean ?? 0, low: (x.rewardMean ?? 0) - (x.rewardStd ?? 0), high: (x.rewardMean ?? 0) + (x.rewardStd ?? 0) }));
  if (rewards.length > 0) {
    add('Reward', 'chart-grpo-reward', 'Reward per step', 'Mean reward of the step\'s samples (line) ± one standard deviation (band).', {
      width: 480,
      height: 200,
      data: { values: rewards },
      encoding: { x: stepX },
      layer: [
        { mark: { type: 'area', opacity: 0.25, color: '#f58518' }, encoding: { y: { field: 'low', type: 'quantitative', title: 'reward' }, y2: { field: 'high' } } },
        // A band needs two steps to show; with fewer, each step's spread is drawn as a bar instead.
        ...(rewards.length < 3 ? [{ mark: { type: 'rule' as const, color: '#f58518' }, encoding: { y: { field: 'low', type: 'quantitative' as const }, y2: { field: 'high' } } }] : []),
        { mark: { type: 'line', point: points, color: '#f58518' }, encoding: { y: { field: 'mean', type: 'quantitative' } } },
      ],
    });
  }
  const comp = (k: 'performance' | 'complexity' | 'efficiency' | 'diversity' | 'format') => [k, (x: GrpoMetrics) => x.components?.[k]] as const;
  const components = longRows(m, [comp('performance'), comp('complexity'), comp('efficiency'), comp('diversity'), comp('format')]);
  if (components.length > 0) {
    add('Reward', 'chart-grpo-components', 'Reward components per step', 'Mean of each weighted component over the step\'s samples (rewards/): the reward is their sum.', {
      width: 480,
      height: 200,
      data: { values: components },
      mark: { type: 'line', point: points },
      encoding: { x: stepX, y: { field: 'value', type: 'quantitative', title: 'mean component' }, color: { field: 'series', type: 'nominal', title: 'component' } },
    });
  }
  const quality = longRows(m, [
    ['pass rate', (x) => x.passRate],
    ['operator call sites', (x) => x.operatorCallSites],
    ['policy tokens', (x) => x.policyTokens],
    ['worker tokens', (x) => x.workerTokens],
  ]);
  if (quality.length > 0) {
    add('Samples', 'chart-grpo-quality', 'Pass rate, complexity and tokens per step', 'Hidden-test pass rate of the solutions, mean operator call sites per workflow (complexity), and tokens of the policy and the workers; each on its own scale.', {
      data: { values: quality },
      facet: { row: { field: 'series', type: 'nominal', title: null, sort: ['pass rate', 'operator call sites', 'policy tokens', 'worker tokens'], header: { labelAngle: 0, labelAlign: 'left', labelAnchor: 'start', labelOrient: 'top' } } },
      spec: { width: 480, height: 80, mark: { type: 'line', point: points }, encoding: { x: stepX, y: { field: 'value', type: 'quantitative', title: null } } },
      resolve: { scale: { y: 'independent' } },
    });
  }
  const filtered = longRows(m, [['filtered groups', (x) => x.filteredGroups]]);
  if (filtered.length > 0) {
    add('Batches', 'chart-grpo-filtered', 'Filtered groups per step', 'Groups dropped by the advantage filter (e.g. DAPO drops groups whose rewards are all equal) before the step filled its batch.', {
      width: 480,
      height: 160,
      data: { values: filtered },
      mark: { type: 'bar', color: '#e45756' },
      encoding: { x: barStepX(m.length), y: { field: 'value', type: 'quantitative', title: 'groups', axis: { tickMinStep: 1, format: 'd' } } },
    });
  }
  const stale = longRows(m, [['staleness', (x) => x.staleness]]);
  if (stale.length > 0) {
    add('Batches', 'chart-grpo-staleness', 'Staleness per step', 'Policy versions between the one that sampled the step and the trainer\'s latest (0: on-policy).', {
      width: 480,
      height: 160,
      data: { values: stale },
      // Points on a line rather than bars: on-policy steps are all 0, and a zero-height bar draws nothing to see.
      mark: { type: 'line', point: points, color: '#72b7b2' },
      encoding: {
        x: stepX,
        y: { field: 'value', type: 'quantitative', title: 'versions behind', scale: { domain: [0, Math.max(1, ...stale.map((r) => Number(r.value)))] }, axis: { tickMinStep: 1, format: 'd' } },
      },
    });
  }
  const parts = ['sampling', 'execution', 'writing'];
  const time = longRows(m, [
    ['sampling', (x) => x.samplingS],
    ['execution', (x) => x.executionS],
    ['writing', (x) => x.writeS],
  ]).map((r) => ({ ...r, k: parts.indexOf(String(r.series)) }));
  if (time.length > 0) {
    const wall = longRows(m, [['wall', (x) => x.wallS]]);
    add('Time', 'chart-grpo-time', 'Time per step', 'Seconds spent sampling, executing and writing, summed over the step\'s samples (stacked); samples run concurrently, so the sum can exceed the step\'s wall time (black tick).', {
      width: 480,
      height: 200,
      layer: [
        {
          data: { values: time },
          mark: 'bar',
          encoding: {
            x: barStepX(m.length),
            y: { field: 'value', type: 'quantitative', title: 'seconds', aggregate: 'sum' },
            color: { field: 'series', type: 'nominal', title: 'part', sort: parts },
            // Stacked bottom-up in the order a step runs them.
            order: { field: 'k', type: 'quantitative' },
          },
        },
        ...(wall.length > 0 ? [{ data: { values: wall }, mark: { type: 'tick' as const, color: 'black', thickness: 2 }, encoding: { x: barStepX(m.length), y: { field: 'value', type: 'quantitative' as const } } }] : []),
      ],
    });
  }

  const byPart = new Map<string, typeof charts>();
  for (const c of charts) byPart.set(c[0], [...(byPart.get(c[0]) ?? []), c]);
  for (const [part, cs] of byPart) {
    const figures = [];
    for (const [, c] of cs) {
      s.figures.push(c.id);
      figures.push(await chartFigure(c));
    }
    addPart(s, part, html`${figures}`);
  }
  return s;
}
