// One section of the report (a stage, or the run header): its heading, sub-headings for the contents, notes and body.
import { html, slug, type Html, type Interpolated } from './html.ts';

export interface Section {
  id: string;
  title: string;
  /** Sub-headings, in order, for the table of contents. */
  parts: Array<{ id: string; title: string }>;
  /** Small print: missing files, skipped lines, what a figure could not show. */
  notes: string[];
  /** Charts and diagrams drawn, by element id (the browser test checks each has marks). */
  figures: string[];
  body: Html[];
}

export function newSection(id: string, title: string): Section {
  return { id, title, parts: [], notes: [], figures: [], body: [] };
}

export function addNote(s: Section, note: string | null): void {
  if (note !== null) s.notes.push(note);
}

/** Appends a sub-heading with its content; returns the id it got. */
export function addPart(s: Section, title: string, content: Html): string {
  let id = `${s.id}-${slug(title)}`;
  for (let i = 2; s.parts.some((p) => p.id === id); i += 1) id = `${s.id}-${slug(title)}-${i}`;
  s.parts.push({ id, title });
  s.body.push(html`<h3 id="${id}">${title}</h3>\n${content}`);
  return id;
}

/** A table; `numeric` columns are right-aligned. */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly Interpolated[]>, numeric: ReadonlySet<number> = new Set()): Html {
  const cls = (i: number): string => (numeric.has(i) ? 'num' : '');
  return html`<table>
<thead><tr>${headers.map((h, i) => html`<th class="${cls(i)}">${h}</th>`)}</tr></thead>
<tbody>${rows.map((r) => html`<tr>${r.map((c, i) => html`<td class="${cls(i)}">${c}</td>`)}</tr>\n`)}</tbody>
</table>`;
}

/** Two columns of facts: name, value. */
export function facts(rows: ReadonlyArray<readonly [string, Interpolated]>): Html {
  return html`<table class="facts"><tbody>${rows.map(([k, v]) => html`<tr><th>${k}</th><td>${v}</td></tr>\n`)}</tbody></table>`;
}
