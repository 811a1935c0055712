// Draws a workflow's flow graph as static SVG: a small layered layout (top to bottom), so the page needs no Mermaid script.
import { escapeHtml } from './html.ts';
import type { FlowGraph, FlowGraphEdge, FlowGraphNode } from './mermaid-graph.ts';

const FONT = 12;
/** Average glyph width at FONT px of a sans-serif face; widths are estimated, as no font metrics exist at build time. */
const CHAR_W = 6.8;
const LINE_H = 16;
const PAD_X = 14;
const PAD_Y = 9;
const GAP_X = 28;
const GAP_Y = 46;
const MAX_CHARS = 48;

interface Placed {
  node: FlowGraphNode;
  layer: number;
  order: number;
  lines: string[];
  w: number;
  h: number;
  x: number;
  y: number;
}

const clip = (s: string): string => (s.length > MAX_CHARS ? `${s.slice(0, MAX_CHARS - 1)}…` : s);

function sizeOf(n: FlowGraphNode): { lines: string[]; w: number; h: number } {
  const lines = n.lines.map(clip);
  const text = Math.max(...lines.map((l) => l.length), 1) * CHAR_W;
  let w = text + 2 * PAD_X;
  let h = lines.length * LINE_H + 2 * PAD_Y;
  // Diamonds and hexagons need room around the text for their slanted sides.
  if (n.shape === 'diamond') {
    w = w * 1.4;
    h = h * 1.5;
  } else if (n.shape === 'hexagon' || n.shape === 'flag') w += 24;
  else if (n.shape === 'circle') w = h = Math.max(w, h);
  return { lines, w, h };
}

/** Edges that close a cycle (a loop's way back to its head), found by depth-first search from the sources in order. */
function backEdges(graph: FlowGraph): Set<FlowGraphEdge> {
  const out = new Map<string, FlowGraphEdge[]>();
  for (const e of graph.edges) out.set(e.from, [...(out.get(e.from) ?? []), e]);
  const state = new Map<string, 'open' | 'done'>();
  const back = new Set<FlowGraphEdge>();
  const visit = (id: string): void => {
    // Iterative: a model-written workflow can nest deeply, and recursion depth is not ours to bet on.
    const stack: Array<{ id: string; i: number }> = [{ id, i: 0 }];
    state.set(id, 'open');
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!; // non-empty: checked by the loop condition
      const e = out.get(top.id)?.[top.i];
      if (e === undefined) {
        state.set(top.id, 'done');
        stack.pop();
        continue;
      }
      top.i += 1;
      const s = state.get(e.to);
      if (s === 'open') back.add(e);
      else if (s === undefined) {
        state.set(e.to, 'open');
        stack.push({ id: e.to, i: 0 });
      }
    }
  };
  const hasIn = new Set(graph.edges.map((e) => e.to));
  for (const n of graph.nodes) if (!hasIn.has(n.id) && !state.has(n.id)) visit(n.id);
  for (const n of graph.nodes) if (!state.has(n.id)) visit(n.id);
  return back;
}

export interface FlowLayout {
  nodes: Placed[];
  forward: FlowGraphEdge[];
  back: FlowGraphEdge[];
  width: number;
  height: number;
}

/** Layers by longest path over the forward edges, order within layers by a few barycentre sweeps, layers centred. */
export function layoutFlow(graph: FlowGraph): FlowLayout {
  const back = backEdges(graph);
  const forward = graph.edges.filter((e) => !back.has(e) && e.from !== e.to);
  const layer = new Map<string, number>(graph.nodes.map((n) => [n.id, 0]));
  // Longest path: relax forward edges until nothing moves (a DAG with N nodes settles within N passes).
  for (let pass = 0; pass <= graph.nodes.length; pass += 1) {
    let moved = false;
    for (const e of forward) {
      const want = (layer.get(e.from) ?? 0) + 1;
      if ((layer.get(e.to) ?? 0) < want) {
        layer.set(e.to, want);
        moved = true;
      }
    }
    if (!moved) break;
  }
  const placed = new Map<string, Placed>();
  graph.nodes.forEach((node, i) => placed.set(node.id, { node, layer: layer.get(node.id) ?? 0, order: i, ...sizeOf(node), x: 0, y: 0 }));
  const layers: Placed[][] = [];
  for (const p of placed.values()) (layers[p.layer] ??= []).push(p);
  const rows = layers.map((l) => l ?? []);
  const preds = new Map<string, string[]>();
  const succs = new Map<string, string[]>();
  for (const e of forward) {
    preds.set(e.to, [...(preds.get(e.to) ?? []), e.from]);
    succs.set(e.from, [...(succs.get(e.from) ?? []), e.to]);
  }
  const renumber = (row: Placed[]): void => row.forEach((p, i) => (p.order = i));
  rows.forEach(renumber);
  const sweep = (row: Placed[], by: Map<string, string[]>): void => {
    const key = (p: Placed): number => {
      const near = (by.get(p.node.id) ?? []).map((id) => placed.get(id)?.order ?? 0);
      return near.length === 0 ? p.order : near.reduce((a, b) => a + b, 0) / near.length;
    };
    row.sort((a, b) => key(a) - key(b) || a.order - b.order);
    renumber(row);
  };
  for (let it = 0; it < 4; it += 1) {
    for (const row of rows.slice(1)) sweep(row, preds);
    for (const row of rows.slice(0, -1).reverse()) sweep(row, succs);
  }
  const rowWidth = (row: Placed[]): number => row.reduce((a, p) => a + p.w, 0) + GAP_X * Math.max(row.length - 1, 0);
  const inner = Math.max(...rows.map(rowWidth), 0);
  // Room on the right for the back edges, which run up beside the layers.
  const margin = 16;
  let y = margin;
  for (const row of rows) {
    let x = margin + (inner - rowWidth(row)) / 2;
    const h = Math.max(...row.map((p) => p.h), 0);
    for (const p of row) {
      p.x = x;
      p.y = y + (h - p.h) / 2;
      x += p.w + GAP_X;
    }
    y += h + GAP_Y;
  }
  return { nodes: [...placed.values()], forward, back: [...back], width: inner + 2 * margin + (back.size > 0 ? 40 + 24 * back.size : 0), height: y - GAP_Y + margin + 8 };
}

const f = (n: number): string => (Math.round(n * 10) / 10).toString();

function shapeSvg(p: Placed): string {
  const { x, y, w, h } = p;
  const cls = 'class="flow-shape"';
  switch (p.node.shape) {
    case 'stadium':
      return `<rect ${cls} x="${f(x)}" y="${f(y)}" width="${f(w)}" height="${f(h)}" rx="${f(h / 2)}"/>`;
    case 'circle':
      return `<ellipse ${cls} cx="${f(x + w / 2)}" cy="${f(y + h / 2)}" rx="${f(w / 2)}" ry="${f(h / 2)}"/>`;
    case 'diamond':
      return `<polygon ${cls} points="${f(x + w / 2)},${f(y)} ${f(x + w)},${f(y + h / 2)} ${f(x + w / 2)},${f(y + h)} ${f(x)},${f(y + h / 2)}"/>`;
    case 'hexagon':
      return `<polygon ${cls} points="${f(x + 12)},${f(y)} ${f(x + w - 12)},${f(y)} ${f(x + w)},${f(y + h / 2)} ${f(x + w - 12)},${f(y + h)} ${f(x + 12)},${f(y + h)} ${f(x)},${f(y + h / 2)}"/>`;
    case 'flag':
      return `<polygon ${cls} points="${f(x)},${f(y)} ${f(x + w)},${f(y)} ${f(x + w)},${f(y + h)} ${f(x)},${f(y + h)} ${f(x + 12)},${f(y + h / 2)}"/>`;
    case 'subroutine':
      return `<rect ${cls} x="${f(x)}" y="${f(y)}" width="${f(w)}" height="${f(h)}"/><path class="flow-shape" d="M${f(x + 6)},${f(y)}V${f(y + h)}M${f(x + w - 6)},${f(y)}V${f(y + h)}"/>`;
    case 'rect':
      return `<rect ${cls} x="${f(x)}" y="${f(y)}" width="${f(w)}" height="${f(h)}" rx="4"/>`;
  }
}

function arrowHead(x: number, y: number, dx: number, dy: number): string {
  const len = Math.hypot(dx, dy) || 1;
  const ux = dx / len;
  const uy = dy / len;
  const a = `${f(x)},${f(y)}`;
  const b = `${f(x - 8 * ux + 4 * uy)},${f(y - 8 * uy - 4 * ux)}`;
  const c = `${f(x - 8 * ux - 4 * uy)},${f(y - 8 * uy + 4 * ux)}`;
  return `<polygon class="flow-arrow" points="${a} ${b} ${c}"/>`;
}

function labelSvg(text: string | null, x: number, y: number): string {
  if (text === null || text === '') return '';
  const t = clip(text);
  const w = t.length * (CHAR_W - 0.6) + 8;
  return `<rect class="flow-label-bg" x="${f(x - w / 2)}" y="${f(y - 9)}" width="${f(w)}" height="16" rx="3"/><text class="flow-label" x="${f(x)}" y="${f(y + 3)}" text-anchor="middle">${escapeHtml(t)}</text>`;
}

/** The SVG of a flow graph; every label is escaped (labels come from model-written code). */
export function flowSvg(graph: FlowGraph, title: string): string {
  const lay = layoutFlow(graph);
  const at = new Map(lay.nodes.map((p) => [p.node.id, p]));
  const parts: string[] = [];

  // Subgraphs (loops, inlined helpers): a dashed box around their nodes, nested ones inside their parents.
  const members = (gid: string): Placed[] => {
    const inside = new Set<string>([gid]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const g of graph.groups) {
        if (g.parent !== null && inside.has(g.parent) && !inside.has(g.id)) {
          inside.add(g.id);
          grew = true;
        }
      }
    }
    return lay.nodes.filter((p) => p.node.group !== null && inside.has(p.node.group));
  };
  const depth = (gid: string | null): number => {
    let d = 0;
    for (let g = graph.groups.find((x) => x.id === gid); g !== undefined && g.parent !== null; g = graph.groups.find((x) => x.id === g?.parent)) d += 1;
    return d;
  };
  for (const g of [...graph.groups].sort((a, b) => depth(a.id) - depth(b.id))) {
    const ms = members(g.id);
    if (ms.length === 0) continue;
    const pad = 10 - 3 * Math.min(depth(g.id), 2);
    const x0 = Math.min(...ms.map((p) => p.x)) - pad;
    const y0 = Math.min(...ms.map((p) => p.y)) - pad - 14;
    const x1 = Math.max(...ms.map((p) => p.x + p.w)) + pad;
    const y1 = Math.max(...ms.map((p) => p.y + p.h)) + pad;
    parts.push(
      `<g class="flow-group"><rect x="${f(x0)}" y="${f(y0)}" width="${f(x1 - x0)}" height="${f(y1 - y0)}" rx="6"/><text x="${f(x0 + 6)}" y="${f(y0 + 12)}">${escapeHtml(clip(g.title))}</text></g>`,
    );
  }

  for (const e of lay.forward) {
    const a = at.get(e.from);
    const b = at.get(e.to);
    if (a === undefined || b === undefined) continue;
    const x1 = a.x + a.w / 2;
    const y1 = a.y + a.h;
    const x2 = b.x + b.w / 2;
    const y2 = b.y;
    const my = (y1 + y2) / 2;
    parts.push(
      `<g class="flow-edge${e.parallel ? ' parallel' : ''}"><path d="M${f(x1)},${f(y1)} C${f(x1)},${f(my)} ${f(x2)},${f(my)} ${f(x2)},${f(y2)}"/>${arrowHead(x2, y2, 0, 1)}${labelSvg(e.label, (x1 + x2) / 2, my)}</g>`,
    );
  }
  // Back edges go out of the right side, up beside everything, and into the right side of their target.
  const right = Math.max(...lay.nodes.map((p) => p.x + p.w), 0);
  lay.back.forEach((e, i) => {
    const a = at.get(e.from);
    const b = at.get(e.to);
    if (a === undefined || b === undefined) return;
    const lane = right + 14 + 24 * i;
    const y1 = a.y + a.h / 2;
    const y2 = b.y + b.h / 2;
    const x1 = a.x + a.w;
    const x2 = b.x + b.w;
    parts.push(
      `<g class="flow-edge back"><path d="M${f(x1)},${f(y1)} H${f(lane)} V${f(y2)} H${f(x2)}"/>${arrowHead(x2, y2, -1, 0)}${labelSvg(e.label, lane, (y1 + y2) / 2)}</g>`,
    );
  });
  for (const p of lay.nodes) {
    const cx = p.x + p.w / 2;
    const top = p.y + p.h / 2 - ((p.lines.length - 1) * LINE_H) / 2 + FONT / 2 - 2;
    const text = p.lines.map((l, i) => `<text x="${f(cx)}" y="${f(top + i * LINE_H)}" text-anchor="middle">${escapeHtml(l)}</text>`).join('');
    parts.push(`<g class="flow-node shape-${p.node.shape}">${shapeSvg(p)}${text}</g>`);
  }
  const w = Math.ceil(lay.width);
  const h = Math.ceil(lay.height);
  return `<svg class="flow" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${escapeHtml(title)}">${parts.join('')}</svg>`;
}
