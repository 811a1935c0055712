// The simulated meta-agent: reasons briefly about the query, then proposes a workflow from the library.
import type { Rng } from '../../random.ts';
import { findParentGraph, graphSignature, promptModule, WORKFLOW_LIBRARY, workflowReply, type WorkflowParts, type WorkflowShape } from '../workflow-library.ts';
import { malformedWorkflowReply } from './malformed-workflow.ts';
import { userText, type Draft, type RoleInput } from './types.ts';

export function metaAgentDraft(input: RoleInput, opts: { malformed?: boolean } = {}): Draft {
  const text = userText(input.messages);
  const { rng } = input;
  const entryPoint = input.tasks.find(text)?.entryPoint ?? entryPointIn(text);
  const parent = findParentGraph(text);
  const shape = chooseShape(parent, rng);
  const parts: WorkflowParts = { modification: shape.modification, graph: shape.graph, prompt: promptModule(shape.prompts) };
  const content = opts.malformed ? malformedWorkflowReply(parts, rng).content : workflowReply(parts);
  return { reasoning: reasoning(entryPoint, parent, shape, rng), content };
}

/** A parent design is not proposed again when another exists: the meta-prompt forbids repeating a change. */
function chooseShape(parent: string | undefined, rng: Rng): WorkflowShape {
  if (parent === undefined) return rng.pick(WORKFLOW_LIBRARY);
  const parentSignature = graphSignature(parent);
  const fresh = WORKFLOW_LIBRARY.filter((s) => graphSignature(s.graph) !== parentSignature);
  return rng.pick(fresh.length > 0 ? fresh : WORKFLOW_LIBRARY);
}

/** The function the query is about: a non-dunder `def`, else an entry point named in quotes. */
export function entryPointIn(text: string): string | undefined {
  for (const m of text.matchAll(/\bdef[ \t]+([A-Za-z_]\w*)[ \t]*\(/g)) {
    const name = m[1];
    if (name !== undefined && !name.startsWith('__')) return name;
  }
  return /entry[ _]point\W{0,12}?[`'"]([A-Za-z_]\w*)[`'"]/i.exec(text)?.[1];
}

function describeParent(parent: string): string {
  const ops = graphSignature(parent)
    .split(',')
    .filter((op) => op !== '')
    .map((op) => (op === '*gather' ? 'parallel sampling' : op));
  return ops.length > 0 ? ops.join(', ') : 'no operator at all';
}

function reasoning(entryPoint: string | undefined, parent: string | undefined, shape: WorkflowShape, rng: Rng): string {
  const opening = entryPoint
    ? rng.pick([
        `The query asks for a function called ${entryPoint}.`,
        `So the task is to implement ${entryPoint} and return it as code.`,
        `What has to come out of the workflow is a working ${entryPoint}.`,
      ])
    : 'The query does not show a function header, so the workflow must take the entry point it is given.';
  const context = parent
    ? `The current workflow relies on ${describeParent(parent)}; proposing it again would teach nothing, so one thing changes.`
    : rng.pick([
        'There is no earlier workflow to improve on, so a compact design is the place to start.',
        'Nothing has been tried yet, which makes a simple, checkable design the sensible first step.',
      ]);
  const risk = rng.pick([
    'The usual ways to fail here are boundary inputs and a changed signature.',
    'Off-by-one errors and unhandled empty inputs are the likeliest failures.',
    'The examples in the description pin down the expected behaviour, and a solution must respect all of them.',
  ]);
  const plan = `I think ${shape.rationale}.`;
  const closing = rng.pick([
    'Every prompt the graph refers to will be defined, and the graph always returns a solution string.',
    'The graph stays short, and each prompt it names appears in the prompt block.',
  ]);
  return [opening, context, risk, plan, closing].join(' ');
}
