// Reads back the Mermaid flowcharts of pipeline/workflow/render-mermaid.ts as nodes, edges and subgraphs, so the
// report draws exactly the graph the Mermaid source describes (Mermaid itself needs JavaScript in the page).

export type NodeShape = 'rect' | 'stadium' | 'diamond' | 'hexagon' | 'subroutine' | 'circle' | 'flag';

export interface FlowGraphNode {
  id: string;
  /** Decoded label; lines split where the source has <br/>. */
  lines: string[];
  shape: NodeShape;
  /** The innermost subgraph the node was declared in, or null. */
  group: string | null;
}

export interface FlowGraphEdge {
  from: string;
  to: string;
  label: string | null;
  /** `==>`: the parallel arms of a gather. */
  parallel: boolean;
}

export interface FlowGraphGroup {
  id: string;
  title: string;
  parent: string | null;
}

export interface FlowGraph {
  nodes: FlowGraphNode[];
  edges: FlowGraphEdge[];
  groups: FlowGraphGroup[];
}

// The shape delimiters render-mermaid writes, longest first so that `[[` is not read as `[`.
const SHAPES: ReadonlyArray<[open: string, close: string, shape: NodeShape]> = [
  ['[[', ']]', 'subroutine'],
  ['{{', '}}', 'hexagon'],
  ['([', '])', 'stadium'],
  ['((', '))', 'circle'],
  ['[', ']', 'rect'],
  ['{', '}', 'diamond'],
  ['>', ']', 'flag'],
];

const ENTITY: Record<string, string> = { quot: '"', lt: '<', gt: '>', '35': '#' };

/** Undoes render-mermaid's escaping in one pass (`#35;quot;` is the text `#quot;`), with <br/> as a line break. */
export function decodeLabel(text: string): string[] {
  return text.replace(/#(quot|lt|gt|35);|<br\/>/g, (m, name: string | undefined) => (name === undefined ? '\n' : (ENTITY[name] ?? m))).split('\n');
}

const EDGE = /^([A-Za-z_]\w*) (-->|==>)(?:\|"(.*)"\|)? ([A-Za-z_]\w*)$/;
const SUBGRAPH = /^subgraph ([A-Za-z_]\w*) \["(.*)"\]$/;
const NODE_ID = /^[A-Za-z_]\w*/;

function parseNode(line: string): { id: string; shape: NodeShape; label: string } | null {
  const id = NODE_ID.exec(line)?.[0];
  if (id === undefined) return null;
  const rest = line.slice(id.length);
  for (const [open, close, shape] of SHAPES) {
    if (rest.startsWith(`${open}"`) && rest.endsWith(`"${close}`) && rest.length >= open.length + close.length + 2) {
      return { id, shape, label: rest.slice(open.length + 1, rest.length - close.length - 1) };
    }
  }
  return null;
}

/** The graph of a `flowchart` source; lines it does not know (styling, comments) are ignored. */
export function parseMermaid(source: string): FlowGraph {
  const nodes = new Map<string, FlowGraphNode>();
  const edges: FlowGraphEdge[] = [];
  const groups: FlowGraphGroup[] = [];
  const stack: string[] = [];
  for (const raw of source.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('flowchart') || line.startsWith('direction') || line.startsWith('%%')) continue;
    if (line === 'end') {
      stack.pop();
      continue;
    }
    const sub = SUBGRAPH.exec(line);
    if (sub !== null) {
      groups.push({ id: sub[1] ?? '', title: decodeLabel(sub[2] ?? '').join(' '), parent: stack.at(-1) ?? null });
      stack.push(sub[1] ?? '');
      continue;
    }
    const edge = EDGE.exec(line);
    if (edge !== null) {
      edges.push({ from: edge[1] ?? '', to: edge[4] ?? '', label: edge[3] !== undefined ? decodeLabel(edge[3]).join(' ') : null, parallel: edge[2] === '==>' });
      continue;
    }
    const node = parseNode(line);
    // Mermaid places a node in the subgraph where it first appears; later mentions do not move it.
    if (node !== null && !nodes.has(node.id)) nodes.set(node.id, { id: node.id, lines: decodeLabel(node.label), shape: node.shape, group: stack.at(-1) ?? null });
  }
  // An edge may name a node never declared with a shape: Mermaid draws it as a box labelled with its id.
  for (const e of edges) for (const id of [e.from, e.to]) if (!nodes.has(id)) nodes.set(id, { id, lines: [id], shape: 'rect', group: null });
  return { nodes: [...nodes.values()], edges, groups };
}
