// The sft section: which queries were kept or dropped and why, and the token lengths of the exported samples.
import { chartFigure } from '../charts.ts';
import { counts, int, num } from '../format.ts';
import { html } from '../html.ts';
import { jsonNote, jsonlNote } from '../load.ts';
import type { SftData } from '../read-run.ts';
import { addNote, addPart, facts, newSection, table, type Section } from '../section.ts';

/** Nearest-rank percentile, as stats.json reports them (sft/stats.ts), so the two tables agree; null for no data. */
function percentile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? null;
}

export async function sftSection(d: SftData): Promise<Section> {
  const s = newSection('sft', 'SFT export');
  addNote(s, jsonNote(d.stats, 'sft/stats.json'));
  const stats = d.stats.state === 'ok' ? d.stats.value : null;

  if (stats !== null) {
    const shape = (x: typeof stats.singleTurn): string =>
      x === undefined ? '—' : `${int(x.train)} train, ${int(x.validation)} validation${(x.droppedTooLong ?? 0) > 0 ? `, ${int(x.droppedTooLong)} dropped as too long` : ''}`;
    addPart(
      s,
      'Summary',
      html`${facts([
        ['traces read', int(stats.traces)],
        ['queries kept', int(stats.queries?.kept)],
        ['queries dropped', counts(stats.queries?.dropped)],
        ['rounds', stats.rounds === undefined ? '—' : `${int(stats.rounds.total)} (${int(stats.rounds.invalid)} invalid, ${int(stats.rounds.onKeptPaths)} on kept paths, ${int(stats.rounds.offPath)} off path)`],
        ['single-turn samples', shape(stats.singleTurn)],
        ['multi-turn samples', shape(stats.multiTurn)],
        ['RL prompts', stats.rl === undefined ? '—' : `${int(stats.rl.train)} train, ${int(stats.rl.validation)} validation`],
        ['token counter', stats.tokenCounter ?? '—'],
      ])}${(stats.warnings ?? []).map((w) => html`<p class="note">Export warning: ${w}</p>`)}`,
    );
    if (stats.queries !== undefined) {
      const bars = [{ outcome: 'kept', queries: stats.queries.kept }, ...Object.entries(stats.queries.dropped).map(([reason, n]) => ({ outcome: `dropped: ${reason}`, queries: n }))];
      s.figures.push('chart-sft-queries');
      addPart(
        s,
        'Queries kept and dropped',
        await chartFigure({
          id: 'chart-sft-queries',
          title: 'Queries kept and dropped',
          caption: 'Each distilled query is kept for SFT or dropped for the first filter it fails (stats.json queries).',
          spec: {
            width: 420,
            height: { step: 26 },
            data: { values: bars },
            mark: 'bar',
            encoding: {
              y: { field: 'outcome', type: 'nominal', sort: null, title: null, axis: { labelLimit: 320 } },
              x: { field: 'queries', type: 'quantitative', title: 'queries', axis: { tickMinStep: 1, format: 'd' } },
              color: { field: 'outcome', type: 'nominal', legend: null, scale: { scheme: 'tableau10' } },
            },
          },
        }),
      );
    }
  }

  const rule = `ceil(chars / ${d.charsPerToken})`;
  if (stats?.tokenCounter !== undefined && !stats.tokenCounter.startsWith('estimate')) {
    addNote(s, `The export counted tokens with ${stats.tokenCounter}; the histogram estimates them as ${rule} per message, so its lengths are approximate.`);
  } else if (stats === null) addNote(s, `Without stats.json, tokens are estimated as ${rule} (the sft default).`);
  const absent = d.samples.filter((f) => !f.read.present).map((f) => f.file);
  if (absent.length > 0) addNote(s, `Not in the export: ${absent.join(', ')} (an empty split is not written).`);
  for (const f of d.samples) if (f.read.present) addNote(s, jsonlNote(f.read, `sft/${f.file}`));

  const present = d.samples.filter((f) => f.read.present);
  const values = present.flatMap((f) => f.tokens.map((tokens) => ({ file: f.file, tokens })));
  if (present.length > 0) {
    const rows = present.map((f) => {
      const sorted = [...f.tokens].sort((a, b) => a - b);
      return [f.file, f.shape, f.split, int(f.tokens.length), num(percentile(sorted, 0.5)), num(percentile(sorted, 0.9)), num(sorted.at(-1) ?? null)];
    });
    let chart = html``;
    if (values.length > 0) {
      s.figures.push('chart-sft-tokens');
      chart = await chartFigure({
        id: 'chart-sft-tokens',
        title: 'Sample length (tokens)',
        caption: `Tokens per exported sample, all messages together (reasoning included), counted as the export does: ${rule} for each message text.`,
        spec: {
          data: { values },
          facet: { row: { field: 'file', type: 'nominal', title: null, header: { labelAngle: 0, labelAlign: 'left', labelAnchor: 'start', labelOrient: 'top' } } },
          spec: {
            width: 480,
            height: 90,
            mark: { type: 'bar', color: '#4c78a8' },
            encoding: {
              x: { field: 'tokens', type: 'quantitative', bin: { maxbins: 24 }, title: 'tokens' },
              y: { aggregate: 'count', type: 'quantitative', title: 'samples', axis: { tickMinStep: 1, format: 'd' } },
            },
          },
          resolve: { scale: { y: 'independent' } },
        },
      });
    }
    addPart(s, 'Sample lengths', html`${chart}${table(['file', 'shape', 'split', 'samples', 'p50 tokens', 'p90 tokens', 'max tokens'], rows, new Set([3, 4, 5, 6]))}`);
  }
  return s;
}
