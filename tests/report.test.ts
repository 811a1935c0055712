// The run report: sections follow the run's stages, every chart and diagram draws, hostile text stays text, torn
// JSONL lines become notes, and the page references nothing outside itself.
import { appendFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EvalResultsSchema } from '../eval/results-schema.ts';
import { renderMermaid } from '../pipeline/workflow/render-mermaid.ts';
import { buildReport } from '../report/build-report.ts';
import { renderSvg } from '../report/charts.ts';
import { layoutFlow } from '../report/flow-diagram.ts';
import { escapeHtml, html } from '../report/html.ts';
import { unsafeMarkup } from '../report/markup-check.ts';
import { decodeLabel, parseMermaid } from '../report/mermaid-graph.ts';
import { sampleTokens, type RoundPoint } from '../report/read-run.ts';
import { replyRates, roundScoreStats } from '../report/sections/distill.ts';
import { runCli } from './helpers/cli.ts';
import { tmpDir } from './helpers/tmp.ts';
import { evalResults, HOSTILE, richFlow, writeDistill, writeEval, writeGrpo, writeRunJson, writeSft } from './report.fixtures.ts';

const flowOf = async () => richFlow();

async function fullRun(opts: { hostile?: boolean } = {}): Promise<string> {
  const dir = path.join(await tmpDir('fr-report-'), 'run');
  await mkdir(dir);
  await writeRunJson(dir, opts);
  await writeDistill(dir, opts);
  await writeSft(dir, opts);
  await writeGrpo(dir);
  await writeEval(dir, opts);
  return dir;
}

/** The markup of one element (by id) up to its closing tag: enough to count what a figure drew. */
function figureOf(page: string, id: string): string {
  const start = page.indexOf(`id="${id}"`);
  expect(start, `figure ${id} is in the page`).toBeGreaterThan(0);
  return page.slice(start, page.indexOf('</figure>', start));
}

/** Markup that would fetch something or run script, whatever the text around it. */
const NETWORK = /(?:src|href|xlink:href|action)\s*=\s*["']?\s*(?:https?:|\/\/)|<link\b|@import|url\((?!#)|<script\b|<iframe\b|<object\b|<embed\b|<img\b/i;

describe('report', () => {
  it('draws a section per stage the run has, with every chart and diagram, and writes <run>/report.html', async () => {
    const dir = await fullRun();
    const r = await buildReport(dir, { flowOf });
    expect(r.path).toBe(path.join(dir, 'report.html'));
    expect(r.sections.map((s) => s.id)).toEqual(['run', 'distill', 'sft', 'grpo', 'eval']);
    expect(r.absent).toEqual([]);
    const page = await readFile(r.path, 'utf8');
    const figures = r.sections.flatMap((s) => s.figures);
    expect(figures).toEqual(
      expect.arrayContaining([
        'chart-cost-by-role',
        'chart-distill-scores',
        'chart-distill-valid-replies',
        'chart-sft-queries',
        'chart-sft-tokens',
        'chart-grpo-reward',
        'chart-grpo-components',
        'chart-grpo-quality',
        'chart-grpo-filtered',
        'chart-grpo-staleness',
        'chart-grpo-time',
        'chart-eval-pass1',
      ]),
    );
    for (const id of figures) {
      const fig = figureOf(page, id);
      // vega puts data marks in <g class="mark-… role-mark">; our diagrams draw <g class="flow-node …">.
      if (id.startsWith('chart-')) expect(fig, id).toMatch(/class="mark-[a-z]+ role-mark[^"]*"[^>]*>\s*<(path|line|text|rect)/);
      else expect(fig, id).toContain('class="flow-node');
    }
    // Two distinct best workflows in the fixture (the third leader shares the first's) are drawn, each with its Mermaid source.
    expect(figures.filter((f) => f.startsWith('flow-'))).toHaveLength(2);
    expect(page.match(/<summary>Mermaid source<\/summary><pre class="code">flowchart TD/g)).toHaveLength(2);
    expect(page).toContain('The same workflow is also the best of: mbpp:Mbpp/2.');
    expect(page).not.toContain('chart-warning');
    expect(page).not.toContain('could not be drawn');
    // Contents link to every section and sub-heading.
    for (const s of r.sections) expect(page).toContain(`<a href="#${s.id}">`);
    // The fixture's export has no validation files, as an export with an empty validation split; nothing else is noted.
    expect(r.sections.flatMap((s) => s.notes)).toEqual(['Not in the export: val.messages.jsonl, val.multiturn.messages.jsonl (an empty split is not written).']);
  });

  it('shows the pass@1 table with intervals and task counts, the cost per method and the paired comparisons of eval/results.json', async () => {
    expect(() => EvalResultsSchema.parse(evalResults())).not.toThrow();
    const dir = path.join(await tmpDir('fr-report-'), 'run');
    await writeEval(dir);
    const r = await buildReport(dir);
    expect(r.sections.map((s) => s.id)).toEqual(['run', 'eval']);
    const page = await readFile(r.path, 'utf8');
    const cells = evalResults().cells;
    const first = cells[0]!;
    expect(page).toContain(`${first.passAt1!.toFixed(3)}</span><span class="ci"> [${first.interval!.low.toFixed(3)}, ${first.interval!.high.toFixed(3)}]`);
    expect(page).toContain('20 tasks');
    expect(page).toContain('&lt; 0.001');
    expect(page).toContain('0.065');
    expect(page).toMatch(/<span class="sig yes">yes<\/span>[\s\S]*|<span class="sig no">no<\/span>/);
    expect(page).toContain('$0.3000');
    // The bars and their error bars: a rect mark and a rule mark.
    const fig = figureOf(page, 'chart-eval-pass1');
    expect(fig).toContain('mark-rect role-mark');
    expect(fig).toContain('mark-rule role-mark');
  });

  it('leaves out the stages a run lacks and names them, and says which file of a present stage is missing', async () => {
    const dir = path.join(await tmpDir('fr-report-'), 'run');
    await writeRunJson(dir);
    await mkdir(path.join(dir, 'distill'));
    await writeFile(path.join(dir, 'distill', 'summary.json'), JSON.stringify({ queries: 1 }));
    const r = await buildReport(dir);
    expect(r.sections.map((s) => s.id)).toEqual(['run', 'distill']);
    expect(r.absent).toEqual(['sft', 'grpo', 'eval']);
    const page = await readFile(r.path, 'utf8');
    expect(page).toContain('data-absent="sft grpo eval"');
    expect(page).toMatch(/Not in this run: <strong>sft<\/strong> \(no sft\/\)/);
    const notes = r.sections.find((s) => s.id === 'distill')?.notes ?? [];
    expect(notes).toEqual(expect.arrayContaining(['distill/rounds.jsonl is missing.', 'distill/traces.jsonl is missing.']));
    expect(r.sections.find((s) => s.id === 'run')?.notes).toEqual(['calls.jsonl is missing.']);
  });

  it('skips a torn or malformed JSONL line, counts it in a note, and still draws the rest', async () => {
    const dir = await fullRun();
    const rounds = path.join(dir, 'distill', 'rounds.jsonl');
    await appendFile(rounds, 'not json\n{"kind":"round","queryId":"q","round":0}\n{"kind":"round","queryId":"torn","rou');
    await appendFile(path.join(dir, 'grpo', 'metrics.jsonl'), '{"rewardMean": 1}\n');
    const r = await buildReport(dir, { flowOf });
    const distill = r.sections.find((s) => s.id === 'distill');
    expect(distill?.notes).toHaveLength(1);
    expect(distill?.notes[0]).toMatch(/^distill\/rounds\.jsonl: 3 malformed lines skipped \(line 7: not JSON .*; line 8: round: .*; line 9: not JSON/);
    expect(distill?.figures).toContain('chart-distill-scores');
    expect(r.sections.find((s) => s.id === 'grpo')?.notes).toEqual([expect.stringMatching(/^grpo\/metrics\.jsonl: 1 malformed line skipped \(line 4: step: /)]);
    // A file that is not JSON at all is a note too.
    await writeFile(path.join(dir, 'eval', 'results.json'), '{"schema": "flowreasoner-eval/v1", "cells": [');
    const again = await buildReport(dir, { flowOf });
    expect(again.sections.find((s) => s.id === 'eval')?.notes[0]).toMatch(/^eval\/results\.json could not be read: not JSON/);
  });

  it('keeps hostile run text as text: no script, tag or event handler from the run reaches the markup', async () => {
    const dir = await fullRun({ hostile: true });
    const r = await buildReport(dir, { flowOf: async () => richFlow(HOSTILE) });
    const page = await readFile(r.path, 'utf8');
    // `<` in text is always escaped, so any `<script` or `<img` would be a real element.
    expect(page).not.toMatch(/<script|<img/i);
    expect(page).not.toContain('<!--');
    expect(unsafeMarkup(page)).toEqual([]);
    // It is all there, escaped: in tables and headings, in code, in chart labels, in diagram labels and Mermaid text.
    expect(page).toContain(escapeHtml('<img src=x onerror="window.__pwned=2">'));
    expect(figureOf(page, 'chart-cost-by-role')).toContain('&lt;/script&gt;');
    const diagram = page.slice(page.indexOf('class="flow-figure"'));
    expect(diagram.slice(0, diagram.indexOf('</svg>'))).toContain('&lt;img src=x');
    // Mermaid's own escaping, inside the HTML escaping: `#lt;` written as is, `<` never.
    expect(page).toContain('self.gen #lt;/script#gt;#lt;script#gt;window.__pwned=1');
    // And the page refuses script outright, should a future change let some through.
    expect(page).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; style-src &#39;unsafe-inline&#39;">`);
  });

  it('references nothing outside the page: no script, stylesheet, font, image or link to the network', async () => {
    const dir = await fullRun({ hostile: true });
    // A URL in the run data (run.json's summary has one) is shown as text, never as a link.
    const page = await readFile((await buildReport(dir, { flowOf })).path, 'utf8');
    expect(page).toContain('http://127.0.0.1:1');
    expect(page).not.toMatch(NETWORK);
    const hrefs = [...page.matchAll(/href="([^"]*)"/g)].map((m) => m[1] ?? '');
    expect(hrefs.length).toBeGreaterThan(0);
    expect(hrefs.every((h) => h.startsWith('#'))).toBe(true);
  });

  it('finds markup that could run script or fetch, and is not fooled by escaped text in attribute values', () => {
    expect(unsafeMarkup('<p title="a onerror=&quot;x&quot; src=y">&lt;img src=x onerror=y&gt;</p><a href="#run">x</a>')).toEqual([]);
    expect(unsafeMarkup('<p><img src=x onerror=alert(1)></p>')).toEqual(['<img> element', 'src= on <img>', 'onerror= on <img>']);
    expect(unsafeMarkup('<svg><a xlink:href="https://x"><text onclick=\'f()\'>t</text></a></svg>')).toEqual(['xlink:href="https://x" on <a>', 'onclick= on <text>']);
    expect(unsafeMarkup('<div style="background: url(https://x/y.png)"></div><rect clip-path="url(#c1)"/>')).toEqual(['url() to outside the page in style= on <div>']);
    expect(unsafeMarkup('<style>a { color: red }</style><SCRIPT>x</SCRIPT><meta http-equiv="refresh" content="0">')).toEqual(['<script> element', '<meta http-equiv=refresh>']);
  });

  it('vega escapes the labels it draws', async () => {
    const { svg, warnings } = await renderSvg({ title: HOSTILE, data: { values: [{ a: HOSTILE, b: 1 }] }, mark: 'bar', encoding: { x: { field: 'a', type: 'nominal' }, y: { field: 'b', type: 'quantitative' } } });
    expect(warnings).toEqual([]);
    expect(svg).not.toMatch(/<script|<img/i);
    expect(svg).toContain('&lt;/script&gt;');
  });

  it('escapes every value put into the html template, and only Html fragments pass as they are', () => {
    expect(html`<p title="${'"><x'}">${'<b>&'}${html`<i>ok</i>`}${['<', html`<u>`]}${null}${7}</p>`.text).toBe('<p title="&quot;&gt;&lt;x">&lt;b&gt;&amp;<i>ok</i>&lt;<u>7</p>');
  });

  it('sums per round: score mean, extremes and quartiles of valid rounds, and the share of accepted replies', () => {
    const r = (queryId: string, round: number, score: number | null, outcomes: string[] = []): RoundPoint => ({ queryId, round, valid: score !== null, score, outcomes });
    const rounds = [r('a', 1, 0), r('b', 1, 0.5), r('c', 1, 1), r('d', 1, 1), r('a', 2, 1, ['malformed', 'accepted']), r('b', 2, null, ['malformed', 'repeated', 'call-failed'])];
    expect(roundScoreStats(rounds)).toEqual([
      { round: 1, n: 4, mean: 0.625, min: 0, max: 1, q1: 0.375, q3: 1 },
      { round: 2, n: 1, mean: 1, min: 1, max: 1, q1: 1, q3: 1 },
    ]);
    expect(replyRates(rounds)).toEqual([{ round: 2, attempts: 5, accepted: 1, rate: 0.2, outcomes: { malformed: 2, accepted: 1, repeated: 1, 'call-failed': 1 } }]);
  });

  it('counts sample tokens as the sft export does: each message text rounded up on its own, reasoning included', async () => {
    expect(sampleTokens([{ content: 'abcde' }, { content: 'abcd' }], 2)).toBe(5);
    expect(sampleTokens([{ content: 'a' }, { content: 'b', reasoning_content: 'cde' }], 2)).toBe(4);
    const dir = await fullRun();
    const page = await readFile((await buildReport(dir, { flowOf })).path, 'utf8');
    // train.messages.jsonl: 4 and 5 tokens at 2 chars per token (stats.json config), so p50 4 and max 5.
    expect(page).toMatch(/<td class="">train\.messages\.jsonl<\/td><td class="">single-turn<\/td><td class="">train<\/td><td class="num">2<\/td><td class="num">4<\/td><td class="num">5<\/td><td class="num">5<\/td>/);
  });

  it('reads back the Mermaid source it shows as the same nodes and edges, and lays loops out with their back edges', () => {
    const mermaid = renderMermaid(richFlow('"q" #1 <b>'));
    const g = parseMermaid(mermaid);
    const declared = mermaid.split('\n').filter((l) => /^\s*[A-Za-z_]\w*(\[|\{|\(|>)/.test(l) && !/^\s*subgraph\b/.test(l));
    expect(g.nodes).toHaveLength(declared.length);
    expect(g.edges).toHaveLength(mermaid.split('\n').filter((l) => / (-->|==>)/.test(l)).length);
    expect(g.groups.map((x) => x.title)).toEqual(['loop (line 4)']);
    expect(g.nodes.find((n) => n.id === 'start')?.shape).toBe('stadium');
    expect(g.nodes.some((n) => n.shape === 'diamond' && n.lines[0] === 'if ok "q" #1 <b>')).toBe(true);
    expect(g.nodes.some((n) => n.shape === 'flag')).toBe(true);
    expect(g.edges.filter((e) => e.parallel).length).toBeGreaterThanOrEqual(4);
    expect(decodeLabel('a #35;quot; #quot;b#quot;<br/>c')).toEqual(['a #quot; "b"', 'c']);
    const lay = layoutFlow(g);
    // The loop's way back to its head is the only edge drawn upwards; every other edge goes down a layer or more.
    expect(lay.back.map((e) => e.label)).toEqual(['next']);
    const layerOf = new Map(lay.nodes.map((p) => [p.node.id, p.layer]));
    for (const e of lay.forward) expect(layerOf.get(e.to)!).toBeGreaterThan(layerOf.get(e.from)!);
    expect(layerOf.get('done')).toBe(Math.max(...layerOf.values()));
  });

  it('`flowreasoner report` writes the page and prints its path last; a directory that is not a run is a usage error (exit 2)', async () => {
    const dir = path.join(await tmpDir('fr-report-'), 'run');
    await writeRunJson(dir);
    await writeGrpo(dir);
    const out = path.join(dir, 'elsewhere', 'r.html');
    const ok = await runCli(['report', dir, '--out', out]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout.trim().split('\n').at(-1)).toBe(`report: ${out}`);
    expect(await readFile(out, 'utf8')).toContain('chart-grpo-reward');
    const empty = await tmpDir('fr-report-empty-');
    await mkdir(path.join(empty, 'eval'));
    const bad = await runCli(['report', empty]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('not a run directory');
    await rm(empty, { recursive: true });
    const missing = await runCli(['report', path.join(empty, 'nope')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such directory');
  });
});
