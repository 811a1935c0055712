// The results as the paper's table (Markdown) and as CSV: pass@1 with its interval per method and dataset, usage per
// method, and the paired tests. A difference is marked only when its test rejects equality.
import type { EvalCell, EvalComparison, EvalResults } from './results-schema.ts';
import { OVERALL } from './table.ts';

const pct = (x: number): string => (x * 100).toFixed(1);

function cellText(c: EvalCell | undefined, mark: string): string {
  if (c === undefined || c.passAt1 === null || c.interval === null) return '—';
  return `${pct(c.passAt1)}${mark} [${pct(c.interval.low)}, ${pct(c.interval.high)}]`;
}

function vsDirect(r: EvalResults, method: string, dataset: string): EvalComparison | undefined {
  return r.comparisons.find((c) => c.method === method && c.dataset === dataset && c.role === 'vs-direct');
}

/** ▲ or ▼ when the paired test against direct is significant, else nothing. */
function markOf(cmp: EvalComparison | undefined): string {
  if (cmp === undefined || !cmp.significant) return '';
  return cmp.difference > 0 ? ' ▲' : ' ▼';
}

function mdEscape(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function renderMarkdown(r: EvalResults): string {
  const cols = [...r.datasets.map((d) => ({ key: d.name, head: `${d.label} (n=${d.tasks})` })), { key: OVERALL, head: `Overall (n=${r.datasets.reduce((s, d) => s + d.tasks, 0)})` }];
  const level = 100 * (1 - r.alpha);
  const lines: string[] = [];
  lines.push(`## pass@1 (%), ${r.samplesPerTask === 1 ? 'Wilson' : 'bootstrap'} ${(100 * r.confidence).toFixed(0)}% interval`, '');
  lines.push(`| Method | ${cols.map((c) => mdEscape(c.head)).join(' | ')} |`);
  lines.push(`|---|${cols.map(() => '---:').join('|')}|`);
  for (const m of r.methods) {
    const cells = cols.map((c) => cellText(r.cells.find((x) => x.method === m.method && x.dataset === c.key), markOf(vsDirect(r, m.method, c.key))));
    lines.push(`| ${mdEscape(m.method)} | ${cells.join(' | ')} |`);
  }
  lines.push('', `▲/▼: better/worse than direct by a paired test at ${level.toFixed(0)}% (${r.samplesPerTask === 1 ? 'exact McNemar' : 'paired bootstrap'}); no mark: no significant difference.`);
  const excluded = r.datasets.filter((d) => d.excluded > 0);
  if (excluded.length > 0) lines.push(`Excluded tasks: ${excluded.map((d) => `${d.label} ${d.excluded} (${Object.entries(d.excludedReasons).map(([k, v]) => `${k}: ${v}`).join(', ')})`).join('; ')}.`);
  if (r.incomplete.tasksDropped > 0) lines.push(`Incomplete: ${r.incomplete.tasksDropped} tasks left out because ${r.incomplete.missingSamples} samples are still owed; rerun with --resume.`);
  const ks = [...new Set(r.cells.flatMap((c) => Object.keys(c.passAtK)))].filter((k) => k !== 'pass@1');
  if (ks.length > 0) {
    lines.push('', `## ${ks.join(', ')} (%, unbiased estimator, overall)`, '', `| Method | ${ks.join(' | ')} |`, `|---|${ks.map(() => '---:').join('|')}|`);
    for (const m of r.methods) {
      const c = r.cells.find((x) => x.method === m.method && x.dataset === OVERALL);
      lines.push(`| ${mdEscape(m.method)} | ${ks.map((k) => (c?.passAtK[k] === undefined ? '—' : pct(c.passAtK[k]))).join(' | ')} |`);
    }
  }
  lines.push('', '## Cost per method', '', '| Method | Kind | Source | Samples | Cost (USD) | Prompt tokens | Completion tokens | Operator calls | Worker calls | Mean rounds | Unjudged solutions |', '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const m of r.methods) {
    const fails = Object.entries(m.failures).map(([k, v]) => `${k}: ${v}`).join(', ') || '0';
    lines.push(
      `| ${mdEscape(m.method)} | ${m.kind} | ${mdEscape(m.source)} | ${m.samples} | ${m.cost.toFixed(4)} | ${m.promptTokens} | ${m.completionTokens} | ${m.operatorCalls} | ${m.workerCalls} | ${m.meanRounds === null ? '—' : m.meanRounds.toFixed(2)} | ${mdEscape(fails)} |`,
    );
  }
  lines.push('', '## Paired tests', '');
  if (r.bestBaseline !== null) lines.push(`Best baseline (highest overall pass@1 without a meta-agent): ${r.bestBaseline}.`, '');
  lines.push('| Method | Against | Dataset | Tasks | Only method | Only against | Δ pass@1 (pts) | p | Test | Significant |', '|---|---|---|---:|---:|---:|---:|---:|---|---|');
  const label = (key: string): string => (key === OVERALL ? 'Overall' : (r.datasets.find((d) => d.name === key)?.label ?? key));
  for (const c of r.comparisons) {
    lines.push(
      `| ${mdEscape(c.method)} | ${mdEscape(c.against)} | ${mdEscape(label(c.dataset))} | ${c.tasks} | ${c.onlyMethod ?? '—'} | ${c.onlyAgainst ?? '—'} | ${c.difference >= 0 ? '+' : ''}${pct(c.difference)} | ${c.pValue < 0.001 ? c.pValue.toExponential(1) : c.pValue.toFixed(3)} | ${c.test} | ${c.significant ? 'yes' : 'no'} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function csvField(v: string | number | boolean | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One row per method and dataset (and overall), with the method's usage and its test against direct repeated on each row. */
export function renderCsv(r: EvalResults): string {
  const ks = [...new Set(r.cells.flatMap((c) => Object.keys(c.passAtK)))].sort();
  const head = ['method', 'kind', 'dataset', 'tasks', 'samples', 'pass_at_1', 'ci_low', 'ci_high', 'interval_method', ...ks.map((k) => k.replace('@', '_at_')), 'vs_direct_difference', 'vs_direct_p', 'vs_direct_significant', 'vs_best_baseline', 'vs_best_baseline_difference', 'vs_best_baseline_p', 'vs_best_baseline_significant', 'method_cost_usd', 'method_prompt_tokens', 'method_completion_tokens', 'method_operator_calls', 'method_mean_rounds'];
  const rows = [head.join(',')];
  for (const c of r.cells) {
    const m = r.methods.find((x) => x.method === c.method);
    const d = vsDirect(r, c.method, c.dataset);
    const b = r.comparisons.find((x) => x.method === c.method && x.dataset === c.dataset && x.role === 'vs-best-baseline');
    rows.push(
      [
        c.method, m?.kind ?? '', c.dataset, c.tasks, c.samples, c.passAt1, c.interval?.low ?? null, c.interval?.high ?? null, c.intervalMethod,
        ...ks.map((k) => c.passAtK[k] ?? null),
        d?.difference ?? null, d?.pValue ?? null, d === undefined ? null : d.significant,
        b?.against ?? null, b?.difference ?? null, b?.pValue ?? null, b === undefined ? null : b.significant,
        m?.cost ?? null, m?.promptTokens ?? null, m?.completionTokens ?? null, m?.operatorCalls ?? null, m?.meanRounds ?? null,
      ]
        .map(csvField)
        .join(','),
    );
  }
  return `${rows.join('\n')}\n`;
}
