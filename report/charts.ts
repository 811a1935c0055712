// Vega-Lite specs drawn as SVG at build time (vega's headless View, no browser, no canvas), each beside its spec.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { Html, html } from './html.ts';
import { unsafeMarkup } from './markup-check.ts';

export interface ChartSpec {
  /** Element id of the figure (unique in the page). */
  id: string;
  title: string;
  /** One line under the chart: what it shows and how it was computed. */
  caption?: string;
  spec: TopLevelSpec;
}

/** Looks shared by every chart: plain fonts (the page loads none), a white background, room for long axis labels. */
const CONFIG: NonNullable<TopLevelSpec['config']> = {
  font: 'Arial, Helvetica, "Liberation Sans", sans-serif',
  background: 'white',
  view: { stroke: '#ddd' },
  axis: { labelLimit: 160, titleFontWeight: 'normal' },
  legend: { labelLimit: 200 },
};

// vega escapes the text it writes (a test checks with hostile labels); the check turns a future change in that into
// a refused chart, not a script in the page.
/** The SVG of a Vega-Lite spec, rendered without a DOM, with the warnings vega-lite and vega raised on the way. */
export async function renderSvg(spec: TopLevelSpec): Promise<{ svg: string; warnings: string[] }> {
  const warnings: string[] = [];
  // Collected, not printed: library code never writes to the terminal; the figure shows them instead.
  const logger = vega.logger(vega.Warn, 'warn', (_method, _level, args) => {
    warnings.push(args.map((a) => (a instanceof Error ? a.message : String(a))).join(' '));
  });
  const vgSpec = compile({ ...spec, config: { ...CONFIG, ...spec.config } }, { logger }).spec;
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none', logger });
  try {
    const svg = await view.toSVG();
    const problems = unsafeMarkup(svg);
    if (problems.length > 0) throw new Error(`vega produced markup that is not plain SVG (${problems.slice(0, 3).join(', ')})`);
    // Inline SVG in HTML needs no namespace declarations; without them no URL appears in the page at all.
    return { svg: svg.replace(/\s+xmlns(:xlink)?="[^"]*"/g, ''), warnings };
  } finally {
    view.finalize();
  }
}

/** The spec as shown under its chart: indented while small, compact once its data would make the page heavy. */
function specText(spec: TopLevelSpec): string {
  const compact = JSON.stringify(spec);
  return compact.length > 50_000 ? compact : JSON.stringify(spec, null, 1);
}

/** A figure with the chart, its caption and its Vega-Lite spec (data included) in a <details>; a failed chart says why. */
export async function chartFigure(c: ChartSpec): Promise<Html> {
  let body: Html;
  try {
    const { svg, warnings } = await renderSvg(c.spec);
    body = html`${Html.trusted(svg)}${warnings.map((w) => html`<p class="note chart-warning">Vega: ${w}</p>`)}`;
  } catch (e) {
    body = html`<p class="note error">This chart could not be drawn: ${e instanceof Error ? e.message : String(e)}</p>`;
  }
  return html`<figure class="chart" id="${c.id}" data-chart="${c.id}">
<figcaption><strong>${c.title}</strong>${c.caption !== undefined ? html`<br><span class="caption">${c.caption}</span>` : ''}</figcaption>
${body}
<details class="spec"><summary>Vega-Lite spec</summary><pre>${specText(c.spec)}</pre></details>
</figure>`;
}
