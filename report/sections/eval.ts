// The eval section: pass@1 per method and dataset with its interval, cost and calls per method, paired comparisons.
import { chartFigure } from '../charts.ts';
import { counts, int, num, pValue, usd } from '../format.ts';
import { html } from '../html.ts';
import { jsonNote, type Loaded } from '../load.ts';
import type { EvalResults } from '../records.ts';
import { addNote, addPart, facts, newSection, table, type Section } from '../section.ts';

const OVERALL = 'overall';

const interval = (i: { low: number; high: number } | null | undefined): string => (i === null || i === undefined ? '' : ` [${num(i.low)}, ${num(i.high)}]`);

export async function evalSection(results: Loaded<EvalResults>): Promise<Section> {
  const s = newSection('eval', 'Evaluation');
  addNote(s, jsonNote(results, 'eval/results.json'));
  if (results.state !== 'ok') return s;
  const r = results.value;

  addPart(
    s,
    'Setting',
    facts([
      ['created', r.createdAt ?? '—'],
      ['partition', r.partition?.which ?? '—'],
      ['samples per task', int(r.samplesPerTask)],
      ['alpha', num(r.alpha)],
      ['interval level', r.confidence === null || r.confidence === undefined ? '—' : `${num(r.confidence * 100, 1).replace(/\.0$/, '')}%`],
      ['best baseline', r.bestBaseline ?? 'none'],
      ['datasets', r.datasets.map((d) => `${d.label ?? d.name}: ${int(d.tasks)} tasks${(d.excluded ?? 0) > 0 ? ` (${int(d.excluded)} excluded: ${counts(d.excludedReasons)})` : ''}`).join('; ') || '—'],
    ]),
  );
  if (r.incomplete !== undefined && (r.incomplete.missingSamples > 0 || r.incomplete.tasksDropped > 0)) {
    addNote(s, `The run is incomplete: ${r.incomplete.missingSamples} samples missing, so ${r.incomplete.tasksDropped} tasks are left out of the table (it covers only tasks judged for every method).`);
  }

  // Columns: the datasets in the order results.json lists them, then overall; rows: methods in their order.
  const datasets = [...r.datasets.map((d) => d.name), ...(r.cells.some((c) => c.dataset === OVERALL) ? [OVERALL] : [])];
  for (const c of r.cells) if (!datasets.includes(c.dataset)) datasets.push(c.dataset);
  const label = new Map(r.datasets.map((d) => [d.name, d.label ?? d.name]));
  const methods = [...r.methods.map((m) => m.method)];
  for (const c of r.cells) if (!methods.includes(c.method)) methods.push(c.method);
  const cell = (method: string, dataset: string) => r.cells.find((c) => c.method === method && c.dataset === dataset);

  const rows = methods.map((m) => [
    m,
    ...datasets.map((d) => {
      const c = cell(m, d);
      if (c === undefined) return '—';
      return html`<span class="score">${num(c.passAt1)}</span><span class="ci">${interval(c.interval)}</span><br><span class="n">${int(c.tasks)} tasks</span>`;
    }),
  ]);
  const bars = r.cells.filter((c) => c.passAt1 !== null).map((c) => ({ dataset: label.get(c.dataset) ?? c.dataset, method: c.method, passAt1: c.passAt1, low: c.interval?.low ?? c.passAt1, high: c.interval?.high ?? c.passAt1 }));
  const datasetOrder = datasets.map((d) => label.get(d) ?? d);
  const level = typeof r.confidence === 'number' ? `${num(r.confidence * 100, 1).replace(/\.0$/, '')}%` : 'confidence';
  let chart = html``;
  if (bars.length > 0) {
    s.figures.push('chart-eval-pass1');
    chart = await chartFigure({
      id: 'chart-eval-pass1',
      title: 'pass@1 by method and dataset',
      caption: `Mean over tasks of the unbiased pass@1; error bars: the ${level} interval in results.json (Wilson with one sample per task, else a task-level bootstrap).`,
      spec: {
        width: { step: 18 },
        height: 240,
        data: { values: bars },
        encoding: {
          x: { field: 'dataset', type: 'nominal', title: null, sort: datasetOrder, axis: { labelAngle: 0 } },
          xOffset: { field: 'method', type: 'nominal', sort: methods },
          color: { field: 'method', type: 'nominal', title: 'method', sort: methods },
        },
        layer: [
          { mark: 'bar', encoding: { y: { field: 'passAt1', type: 'quantitative', title: 'pass@1', scale: { domain: [0, 1] } } } },
          { mark: { type: 'rule', color: 'black' }, encoding: { y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' }, color: { value: 'black' } } },
        ],
      },
    });
  }
  addPart(s, 'pass@1', html`${chart}${table(['method', ...datasetOrder], rows, new Set(datasets.map((_, i) => i + 1)))}<p class="hint">Each cell: pass@1 [${level} interval], and the tasks it is over.</p>`);

  if (r.methods.length > 0) {
    addPart(
      s,
      'Cost and calls per method',
      table(
        ['method', 'kind', 'source', 'samples', 'cost', 'prompt tokens', 'completion tokens', 'operator calls', 'worker calls', 'mean rounds', 'no solution'],
        r.methods.map((m) => [m.method, m.kind ?? '—', m.source ?? '—', int(m.samples), usd(m.cost), int(m.promptTokens), int(m.completionTokens), int(m.operatorCalls), int(m.workerCalls), num(m.meanRounds, 2), counts(m.failures)]),
        new Set([3, 4, 5, 6, 7, 8, 9]),
      ),
    );
  }
  if (r.comparisons.length > 0) {
    addPart(
      s,
      'Paired comparisons',
      html`${table(
        ['method', 'against', 'role', 'dataset', 'tasks', 'difference', 'p-value', 'test', 'significant'],
        r.comparisons.map((c) => [
          c.method,
          c.against,
          c.role ?? '—',
          label.get(c.dataset) ?? c.dataset,
          int(c.tasks),
          `${c.difference >= 0 ? '+' : ''}${num(c.difference)}${interval(c.interval)}`,
          pValue(c.pValue),
          c.test ?? '—',
          html`<span class="${c.significant ? 'sig yes' : 'sig no'}">${c.significant ? 'yes' : 'no'}</span>`,
        ]),
        new Set([4, 5, 6]),
      )}<p class="hint">Difference: pass@1 of the method minus that of the one it is compared against, on the shared tasks; significant means the test rejects equality at alpha ${num(r.alpha)}.</p>`,
    );
  }
  return s;
}
