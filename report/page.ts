// The report document: one self-contained HTML page (inline CSS, inline SVG, no script, nothing fetched).
import { html, type Html } from './html.ts';
import type { Section } from './section.ts';

// The page runs no script and loads nothing; the policy makes that hold even if a hostile string got through.
const CSP = "default-src 'none'; style-src 'unsafe-inline'";

const CSS = `
:root { color-scheme: light; }
body { font: 14px/1.45 Arial, Helvetica, "Liberation Sans", sans-serif; color: #1f2328; margin: 0; background: #f6f8fa; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 28px 60px; background: white; }
h1 { font-size: 22px; margin: 0 0 4px; word-break: break-all; }
h2 { font-size: 19px; border-bottom: 2px solid #d0d7de; padding-bottom: 4px; margin-top: 36px; }
h3 { font-size: 15px; margin: 24px 0 8px; word-break: break-word; }
.sub { color: #57606a; margin: 0 0 16px; }
nav.toc { border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 16px; margin: 16px 0; background: #fbfcfd; }
nav.toc ul { margin: 4px 0; padding-left: 20px; }
nav.toc a { color: #0969da; text-decoration: none; }
.note { color: #6e5600; background: #fff8c5; border: 1px solid #eedc82; border-radius: 4px; padding: 4px 8px; font-size: 12.5px; margin: 6px 0; }
.note.error { color: #82071e; background: #ffebe9; border-color: #ff8182; }
.absent { color: #57606a; font-size: 12.5px; }
.hint { color: #57606a; font-size: 12.5px; margin: 4px 0 10px; }
table { border-collapse: collapse; margin: 8px 0 12px; font-size: 13px; }
th, td { border: 1px solid #d0d7de; padding: 3px 8px; vertical-align: top; text-align: left; }
thead th { background: #f0f3f6; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.facts th { background: #f6f8fa; font-weight: 600; white-space: nowrap; }
table.facts td { max-width: 760px; word-break: break-word; }
figure { margin: 12px 0 18px; }
figure.chart svg, figure.flow-figure svg { max-width: 100%; height: auto; }
figcaption { font-size: 12.5px; color: #424a53; margin-bottom: 4px; }
figure.flow-figure { overflow-x: auto; border: 1px solid #eaeef2; border-radius: 6px; padding: 8px; }
details { margin: 4px 0 8px; }
summary { cursor: pointer; color: #0969da; font-size: 12.5px; }
pre { background: #f6f8fa; border: 1px solid #eaeef2; border-radius: 4px; padding: 8px; font-size: 12px; overflow: auto; max-height: 420px; white-space: pre; }
.ci, .n { color: #57606a; font-size: 11.5px; }
.sig.yes { color: #1a7f37; font-weight: 600; }
.status { font-weight: 600; }
.status-completed { color: #1a7f37; }
.status-failed, .status-interrupted, .status-budget-exceeded, .status-disk-full { color: #cf222e; }
svg.flow .flow-shape { fill: #eef4fb; stroke: #4c78a8; stroke-width: 1.2; }
svg.flow .shape-diamond .flow-shape, svg.flow .shape-hexagon .flow-shape { fill: #fff4e5; stroke: #e08a00; }
svg.flow .shape-stadium .flow-shape, svg.flow .shape-circle .flow-shape { fill: #edf7ed; stroke: #2f7d32; }
svg.flow .shape-flag .flow-shape { fill: #ffebe9; stroke: #cf222e; }
svg.flow text { font: 12px Arial, Helvetica, "Liberation Sans", sans-serif; fill: #1f2328; }
svg.flow .flow-edge path { fill: none; stroke: #57606a; stroke-width: 1.3; }
svg.flow .flow-edge.parallel path { stroke-width: 2.6; }
svg.flow .flow-edge.back path { stroke-dasharray: 5 3; }
svg.flow .flow-arrow { fill: #57606a; }
svg.flow .flow-label-bg { fill: white; stroke: #d0d7de; }
svg.flow text.flow-label { font-size: 11px; fill: #424a53; }
svg.flow .flow-group rect { fill: none; stroke: #8c959f; stroke-dasharray: 4 3; }
svg.flow .flow-group text { font-size: 11px; fill: #57606a; }
`;

export interface PageInput {
  title: string;
  subtitle: string;
  sections: readonly Section[];
  /** Stages the run does not have, with the file whose absence says so. */
  absent: ReadonlyArray<{ stage: string; why: string }>;
}

function toc(sections: readonly Section[]): Html {
  return html`<nav class="toc" aria-label="Contents"><strong>Contents</strong><ul>${sections.map(
    (s) => html`<li><a href="#${s.id}">${s.title}</a>${s.parts.length > 0 ? html`<ul>${s.parts.map((p) => html`<li><a href="#${p.id}">${p.title}</a></li>`)}</ul>` : ''}</li>`,
  )}</ul></nav>`;
}

function sectionHtml(s: Section): Html {
  return html`<section id="${s.id}" data-section="${s.id}">
<h2>${s.title}</h2>
${s.notes.map((n) => html`<p class="note">${n}</p>\n`)}${s.body.map((b) => html`${b}\n`)}</section>
`;
}

export function page(input: PageInput): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${input.title}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<h1>${input.title}</h1>
<p class="sub">${input.subtitle}</p>
${toc(input.sections)}
${input.absent.length > 0 ? html`<p class="absent" data-absent="${input.absent.map((a) => a.stage).join(' ')}">Not in this run: ${input.absent.map((a, i) => html`${i > 0 ? '; ' : ''}<strong>${a.stage}</strong> (${a.why})`)}.</p>` : ''}
${input.sections.map(sectionHtml)}
</main>
</body>
</html>
`.text;
}
