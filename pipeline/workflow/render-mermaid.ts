// Draws a workflow's operator calls as a Mermaid flowchart (loops as subgraphs, branches as diamonds, gather as parallel edges), for reports.
import { z } from 'zod';

/** The shapes the code analysis service reports for Workflow.__call__: only what matters for the picture of its flow. */
export const FlowKindSchema = z.enum(['op', 'loop', 'branch', 'gather', 'call', 'return', 'raise', 'break', 'continue']);
export type FlowKind = z.infer<typeof FlowKindSchema>;

/**
 * One step of the flow. `arms` holds the nested steps: a loop has one arm (its body), a branch one per outcome
 * (yes/no, or one per match case / except clause), a gather one per parallel argument, an inlined helper
 * method (`call`) one for its body. Steps without operator calls are left out by the service.
 */
export const FlowNodeSchema = z.strictObject({
  kind: FlowKindSchema,
  label: z.string().describe('Source text: the callee for op/call, the header for loops, the condition for branches.'),
  line: z.int().min(1).describe('Line in the graph module.'),
  operator: z.string().nullable().describe('Operator class for kind op, else null.'),
  get arms() {
    return z.array(FlowArmSchema);
  },
});

export const FlowArmSchema = z.strictObject({
  label: z.string(),
  get body() {
    return z.array(FlowNodeSchema);
  },
});

export type FlowNode = z.infer<typeof FlowNodeSchema>;
export type FlowArm = z.infer<typeof FlowArmSchema>;

type EdgeStyle = 'normal' | 'parallel';

/** A loose end waiting for the next step: the node it leaves from, with the edge's label and style. */
interface Exit {
  id: string;
  label?: string;
  style?: EdgeStyle;
}

interface LoopContext {
  head: string;
  breaks: Exit[];
}

interface Context {
  loop: LoopContext | null;
  /** Returns of the workflow itself: joined to `done` once it is declared outside every subgraph. */
  returns: Exit[];
  /** Inside an inlined helper, `return` leaves the helper, not the workflow. */
  helperReturns: Exit[] | null;
}

const MAX_LABEL = 60;

/** Mermaid labels are quoted strings; quotes, angle brackets and '#' are written as entity codes. */
function esc(text: string): string {
  const short = text.length > MAX_LABEL ? `${text.slice(0, MAX_LABEL - 1)}…` : text;
  return short.replace(/#/g, '#35;').replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;');
}

class MermaidWriter {
  private readonly out: string[] = ['flowchart TD'];
  private counter = 0;
  private indent = 1;

  id(prefix: string): string {
    this.counter += 1;
    return `${prefix}${this.counter}`;
  }

  line(text: string): void {
    this.out.push(`${'  '.repeat(this.indent)}${text}`);
  }

  edge(from: Exit, to: string): void {
    const arrow = from.style === 'parallel' ? '==>' : '-->';
    this.line(from.label !== undefined && from.label !== '' ? `${from.id} ${arrow}|"${esc(from.label)}"| ${to}` : `${from.id} ${arrow} ${to}`);
  }

  node(id: string, shape: string, entries: readonly Exit[]): void {
    this.line(`${id}${shape}`);
    for (const e of entries) this.edge(e, id);
  }

  open(id: string, title: string): void {
    this.line(`subgraph ${id} ["${esc(title)}"]`);
    this.indent += 1;
    this.line('direction TB');
  }

  close(): void {
    this.indent -= 1;
    this.line('end');
  }

  text(): string {
    return `${this.out.join('\n')}\n`;
  }
}

function seq(w: MermaidWriter, steps: readonly FlowNode[], entries: Exit[], ctx: Context): Exit[] {
  let loose = entries;
  for (const step of steps) {
    // Steps after a return/break/raise cannot run; drawing them would only suggest they do.
    if (loose.length === 0) break;
    loose = emit(w, step, loose, ctx);
  }
  return loose;
}

function emit(w: MermaidWriter, step: FlowNode, entries: Exit[], ctx: Context): Exit[] {
  switch (step.kind) {
    case 'op': {
      const id = w.id('op');
      w.node(id, `["${esc(step.operator ?? '?')}<br/>${esc(step.label)} · line ${step.line}"]`, entries);
      return [{ id }];
    }
    case 'loop': {
      const sub = w.id('loop');
      const head = w.id('L');
      w.open(sub, `loop (line ${step.line})`);
      w.node(head, `{{"${esc(step.label)}"}}`, entries);
      const loop: LoopContext = { head, breaks: [] };
      const body = step.arms[0]?.body ?? [];
      const ends = seq(w, body, [{ id: head, label: 'each' }], { ...ctx, loop });
      for (const e of ends) w.edge({ ...e, label: e.label ?? 'next' }, head);
      w.close();
      return [{ id: head, label: 'done' }, ...loop.breaks];
    }
    case 'branch': {
      const id = w.id('B');
      w.node(id, `{"${esc(step.label)}"}`, entries);
      const exits: Exit[] = [];
      for (const arm of step.arms) exits.push(...seq(w, arm.body, [{ id, label: arm.label }], ctx));
      return exits;
    }
    case 'gather': {
      const fork = w.id('G');
      const join = w.id('J');
      w.node(fork, `[["${esc(step.label)} · line ${step.line}"]]`, entries);
      const ends: Exit[] = [];
      for (const arm of step.arms) {
        const armExits = seq(w, arm.body, [{ id: fork, label: arm.label, style: 'parallel' }], ctx);
        ends.push(...armExits.map((e) => ({ ...e, style: 'parallel' as const })));
      }
      if (step.arms.length === 0) ends.push({ id: fork, style: 'parallel' });
      w.node(join, '(("join"))', ends);
      return [{ id: join }];
    }
    case 'call': {
      const sub = w.id('call');
      const enter = w.id('C');
      w.open(sub, `${step.label} (line ${step.line})`);
      w.node(enter, `(["${esc(step.label)}"])`, entries);
      const returns: Exit[] = [];
      const body = step.arms[0]?.body ?? [];
      const ends = seq(w, body, [{ id: enter }], { loop: null, returns: ctx.returns, helperReturns: returns });
      w.close();
      return [...ends, ...returns];
    }
    case 'return': {
      const id = w.id('R');
      w.node(id, `(["return ${esc(step.label)}"])`, entries);
      (ctx.helperReturns ?? ctx.returns).push({ id });
      return [];
    }
    case 'raise': {
      const id = w.id('X');
      w.node(id, `>"raise ${esc(step.label)}"]`, entries);
      return [];
    }
    case 'break': {
      if (ctx.loop === null) return entries;
      ctx.loop.breaks.push(...entries.map((e) => ({ ...e, label: e.label === undefined ? 'break' : `${e.label}, break` })));
      return [];
    }
    case 'continue': {
      if (ctx.loop === null) return entries;
      for (const e of entries) w.edge({ ...e, label: e.label === undefined ? 'continue' : `${e.label}, continue` }, ctx.loop.head);
      return [];
    }
  }
}

/**
 * Mermaid source for a workflow's flow (`flowchart TD`). `start` stands for the call with (problem, entry_point);
 * every path that finishes, by return or by falling off the end, leads to `done`.
 */
export function renderMermaid(flow: readonly FlowNode[]): string {
  const w = new MermaidWriter();
  w.line('start(["__call__(problem, entry_point)"])');
  const returns: Exit[] = [];
  const ends = seq(w, flow, [{ id: 'start' }], { loop: null, returns, helperReturns: null });
  // Declared last, at top level: Mermaid puts a node in the subgraph where it first appears.
  w.line('done(["solution"])');
  for (const e of [...returns, ...ends]) w.edge(e, 'done');
  return w.text();
}
