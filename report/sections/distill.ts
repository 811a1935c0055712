// The distill section: public score by round, the teacher's valid-reply rate, the summary, and the best workflows drawn.
import { chartFigure } from '../charts.ts';
import { counts, int, num, pct, usd } from '../format.ts';
import { Html, html, slug } from '../html.ts';
import { jsonNote, jsonlNote } from '../load.ts';
import { compareTraces, TOP_TRACES, type DistillData, type RoundPoint, type TraceInfo } from '../read-run.ts';
import { addNote, addPart, facts, newSection, table, type Section } from '../section.ts';
import { drawWorkflow, type FlowOf } from '../workflow-flow.ts';

export interface RoundScoreStats {
  round: number;
  n: number;
  mean: number;
  min: number;
  max: number;
  q1: number;
  q3: number;
}

/** Linear interpolation between order statistics (numpy's default), on sorted values. */
function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const a = sorted[lo] ?? 0;
  const b = sorted[Math.min(lo + 1, sorted.length - 1)] ?? a;
  return a + (b - a) * (pos - lo);
}

/** Public scores of the valid rounds, by round index: mean, extremes and quartiles over the queries that reached it. */
export function roundScoreStats(rounds: readonly RoundPoint[]): RoundScoreStats[] {
  const by = new Map<number, number[]>();
  for (const r of rounds) if (r.valid && r.score !== null) by.set(r.round, [...(by.get(r.round) ?? []), r.score]);
  return [...by.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([round, xs]) => {
      const s = [...xs].sort((a, b) => a - b);
      return { round, n: s.length, mean: s.reduce((a, b) => a + b, 0) / s.length, min: s[0] ?? 0, max: s[s.length - 1] ?? 0, q1: quantile(s, 0.25), q3: quantile(s, 0.75) };
    });
}

export interface ReplyRate {
  round: number;
  attempts: number;
  accepted: number;
  rate: number;
  outcomes: Record<string, number>;
}

/** Per round index, the share of the teacher's attempts whose reply was accepted (the seed round asks the teacher nothing). */
export function replyRates(rounds: readonly RoundPoint[]): ReplyRate[] {
  const by = new Map<number, Record<string, number>>();
  for (const r of rounds) {
    if (r.outcomes.length === 0) continue;
    const c = by.get(r.round) ?? {};
    for (const o of r.outcomes) c[o] = (c[o] ?? 0) + 1;
    by.set(r.round, c);
  }
  return [...by.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([round, outcomes]) => {
      const attempts = Object.values(outcomes).reduce((a, b) => a + b, 0);
      const accepted = outcomes.accepted ?? 0;
      return { round, attempts, accepted, rate: attempts === 0 ? 0 : accepted / attempts, outcomes };
    });
}

const roundAxis = { tickMinStep: 1, format: 'd' } as const;

async function scoreChart(stats: readonly RoundScoreStats[]): Promise<Html> {
  return chartFigure({
    id: 'chart-distill-scores',
    title: 'Public score by round',
    caption: 'Mean public pass rate of the valid rounds at each round index (line); the light band spans min to max, the dark one the interquartile range, over the queries that reached that round.',
    spec: {
      width: 480,
      height: 220,
      data: { values: stats.map((s) => ({ ...s })) },
      encoding: { x: { field: 'round', type: 'quantitative', title: 'round', axis: roundAxis, scale: { nice: false } } },
      layer: [
        { mark: { type: 'area', opacity: 0.15, color: '#4c78a8' }, encoding: { y: { field: 'min', type: 'quantitative', title: 'public score', scale: { domain: [0, 1] } }, y2: { field: 'max' } } },
        { mark: { type: 'area', opacity: 0.3, color: '#4c78a8' }, encoding: { y: { field: 'q1', type: 'quantitative' }, y2: { field: 'q3' } } },
        { mark: { type: 'line', point: true, color: '#4c78a8' }, encoding: { y: { field: 'mean', type: 'quantitative' } } },
      ],
    },
  });
}

async function replyChart(rates: readonly ReplyRate[]): Promise<Html> {
  return chartFigure({
    id: 'chart-distill-valid-replies',
    title: 'Valid-reply rate by round',
    caption: "Share of the teacher's attempts at each round whose reply parsed and passed the checks (malformed, repeated and failed calls are retried); labels: accepted / attempts.",
    spec: {
      width: 480,
      height: 200,
      data: { values: rates.map((r) => ({ round: String(r.round), rate: r.rate, label: `${r.accepted}/${r.attempts}` })) },
      encoding: { x: { field: 'round', type: 'ordinal', title: 'round', axis: { labelAngle: 0 } } },
      layer: [
        { mark: { type: 'bar', color: '#59a14f' }, encoding: { y: { field: 'rate', type: 'quantitative', title: 'valid-reply rate', scale: { domain: [0, 1] } } } },
        { mark: { type: 'text', dy: -6 }, encoding: { y: { field: 'rate', type: 'quantitative' }, text: { field: 'label' } } },
      ],
    },
  });
}

const traceFacts = (t: TraceInfo): Html =>
  facts([
    ['query', t.queryId],
    ['hidden score', num(t.hiddenScore)],
    ['best public score', num(t.bestScore)],
    ['seed score', num(t.seedScore)],
    ['best round', `${t.bestRound} of ${t.rounds}`],
    ['stop reason', t.stopReason ?? '—'],
    ['cost', usd(t.cost)],
  ]);

async function bestWorkflow(t: TraceInfo, rank: number, flowOf: FlowOf | undefined): Promise<{ body: Html; figure: string | null; note: string | null }> {
  const best = t.best;
  if (best === null) return { body: traceFacts(t), figure: null, note: `${t.queryId}: its best round ${t.bestRound} is not among its rounds.` };
  const drawing = await drawWorkflow({ graph: best.graph, prompt: best.prompt }, `workflow of ${t.queryId}`, flowOf);
  const id = `flow-${rank}-${slug(t.queryId)}`;
  const modification = best.modification.trim();
  const code = html`<details><summary>Graph and prompt code</summary><pre class="code">${best.graph}</pre><pre class="code">${best.prompt}</pre></details>`;
  if (!drawing.ok) {
    return { body: html`${traceFacts(t)}<p class="note">${drawing.reason}</p>${code}`, figure: null, note: `${t.queryId}: ${drawing.reason}.` };
  }
  return {
    body: html`${traceFacts(t)}
${modification !== '' ? html`<p class="modification"><strong>Last change:</strong> ${modification}</p>` : ''}
<figure class="flow-figure" id="${id}" data-flow="${id}">${Html.trusted(drawing.svg)}<figcaption>Operator calls of <code>__call__</code> in round ${best.round}, drawn from the same flow as the Mermaid source.</figcaption></figure>
<details><summary>Mermaid source</summary><pre class="code">${drawing.mermaid}</pre></details>
${code}`,
    figure: id,
    note: null,
  };
}

/**
 * The traces whose best workflows are drawn: the best TOP_TRACES with distinct workflows (several queries often
 * share the seed workflow; drawing it three times says nothing), each with the other leaders that share it.
 */
export function leaders(ranked: readonly TraceInfo[]): Array<{ trace: TraceInfo; alsoBestFor: string[] }> {
  const out: Array<{ trace: TraceInfo; alsoBestFor: string[]; key: string }> = [];
  for (const t of ranked) {
    if (t.best === null) continue;
    const key = `${t.best.graph.trim()}\u0000${t.best.prompt.trim()}`;
    const same = out.find((o) => o.key === key);
    if (same !== undefined) same.alsoBestFor.push(t.queryId);
    else if (out.length < TOP_TRACES) out.push({ trace: t, alsoBestFor: [], key });
  }
  return out.map(({ trace, alsoBestFor }) => ({ trace, alsoBestFor }));
}

/** Traces listed in the table, best first. */
const TRACE_ROWS = 20;

export async function distillSection(d: DistillData, opts: { flowOf?: FlowOf } = {}): Promise<Section> {
  const s = newSection('distill', 'Distill');
  addNote(s, jsonlNote(d.roundsRead, 'distill/rounds.jsonl'));
  addNote(s, jsonlNote(d.tracesRead, 'distill/traces.jsonl'));
  addNote(s, jsonNote(d.summary, 'distill/summary.json'));

  if (d.summary.state === 'ok') {
    const m = d.summary.value;
    addPart(
      s,
      'Summary',
      facts([
        ['queries', `${int(m.queriesDone)} done of ${int(m.queries)}${(m.queriesSkipped ?? 0) > 0 ? `, ${int(m.queriesSkipped)} skipped` : ''}`],
        ['rounds', `${int(m.rounds)} (${int(m.generatedRounds)} from the teacher, ${int(m.validRounds)} valid)`],
        ['valid-reply rate', pct(m.validReplyRate)],
        ['mean seed score', num(m.meanSeedScore)],
        ['mean best score', num(m.meanBestScore)],
        ['mean hidden score', num(m.meanHiddenScore)],
        ['teacher attempts', counts(m.teacherAttempts)],
        ['stop reasons', counts(m.stopReasons)],
        ['cost by role', Object.entries(m.costByRole ?? {}).map(([k, v]) => `${k} ${usd(v)}`).join(', ') || '—'],
        ['failures', counts(m.failures)],
        ['stopped by', m.stoppedBy ?? '—'],
      ]),
    );
  }

  const stats = roundScoreStats(d.rounds);
  if (stats.length > 0) {
    s.figures.push('chart-distill-scores');
    addPart(s, 'Scores by round', await scoreChart(stats));
  } else if (d.roundsRead.present) addNote(s, 'No valid round with a score: no score curve.');
  const rates = replyRates(d.rounds);
  if (rates.length > 0) {
    s.figures.push('chart-distill-valid-replies');
    addPart(s, 'Teacher replies', await replyChart(rates));
  } else if (d.roundsRead.present) addNote(s, 'No round asked the teacher (every query stopped after its seed round): no valid-reply rate.');

  const ranked = [...d.traces].sort(compareTraces);
  if (ranked.length > 0) {
    addPart(
      s,
      'Traces',
      html`${table(
        ['query', 'hidden', 'best public', 'seed', 'best round', 'rounds', 'stop reason', 'cost'],
        ranked.slice(0, TRACE_ROWS).map((t) => [t.queryId, num(t.hiddenScore), num(t.bestScore), num(t.seedScore), int(t.bestRound), int(t.rounds), t.stopReason ?? '—', usd(t.cost)]),
        new Set([1, 2, 3, 4, 5, 7]),
      )}${ranked.length > TRACE_ROWS ? html`<p class="hint">The best ${TRACE_ROWS} of ${ranked.length} traces, by hidden score.</p>` : ''}`,
    );
  }
  for (const [i, { trace, alsoBestFor }] of leaders(ranked).entries()) {
    const w = await bestWorkflow(trace, i + 1, opts.flowOf);
    if (w.figure !== null) s.figures.push(w.figure);
    addNote(s, w.note);
    const also = alsoBestFor.length > 0 ? html`<p class="hint">The same workflow is also the best of: ${alsoBestFor.join(', ')}.</p>` : '';
    addPart(s, `Best workflow #${i + 1}: ${trace.queryId}`, html`${w.body}${also}`);
  }
  return s;
}
