// A workflow's picture for the report: its flow from the static check, as Mermaid source and as our own SVG drawing.
import { checkWorkflow } from '../pipeline/workflow/check.ts';
import { OPERATOR_NAMES } from '../pipeline/workflow/operators/registry.ts';
import { renderMermaid, type FlowNode } from '../pipeline/workflow/render-mermaid.ts';
import { flowSvg } from './flow-diagram.ts';
import { parseMermaid } from './mermaid-graph.ts';

export interface WorkflowParts {
  graph: string;
  prompt: string;
}

/** The operator-call structure of a workflow's __call__; injectable so tests need not start the analysis service. */
export type FlowOf = (parts: WorkflowParts) => Promise<readonly FlowNode[]>;

/** The flow as `flowreasoner workflow render` finds it: the static check with the runtime's operators. */
export const analyzeFlow: FlowOf = async (parts) => (await checkWorkflow(parts, { knownOperators: OPERATOR_NAMES })).flow;

export type WorkflowDrawing = { ok: true; mermaid: string; svg: string } | { ok: false; reason: string };

export async function drawWorkflow(parts: WorkflowParts, title: string, flowOf: FlowOf = analyzeFlow): Promise<WorkflowDrawing> {
  let flow: readonly FlowNode[];
  try {
    flow = await flowOf(parts);
  } catch (e) {
    // The drawing is one part of one section: the report says why it is missing and shows the code instead.
    return { ok: false, reason: `the workflow could not be analysed (${e instanceof Error ? e.message : String(e)})` };
  }
  const mermaid = renderMermaid(flow);
  return { ok: true, mermaid, svg: flowSvg(parseMermaid(mermaid), title) };
}
