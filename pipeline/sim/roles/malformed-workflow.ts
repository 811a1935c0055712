// Broken meta-agent answers, the ways real ones break, so parsers, loaders and rewards meet each failure.
import type { Rng } from '../../random.ts';
import { workflowReply, type WorkflowParts } from '../workflow-library.ts';

export const MALFORMATIONS = ['missing-graph-tag', 'python-syntax-error', 'unknown-operator', 'undefined-prompt'] as const;
export type Malformation = (typeof MALFORMATIONS)[number];

export function malformedWorkflowReply(parts: WorkflowParts, rng: Rng): { content: string; kind: Malformation } {
  const kind = rng.pick(MALFORMATIONS);
  return { content: breakReply(parts, kind), kind };
}

export function breakReply(parts: WorkflowParts, kind: Malformation): string {
  switch (kind) {
    case 'missing-graph-tag': {
      // The code is still there, but in a markdown fence where no `<graph>` parser will look.
      const tagged = workflowReply({ ...parts, graph: '' });
      return tagged.replace(/<graph>[\s\S]*?<\/graph>/, '```python\n' + parts.graph.trimEnd() + '\n```');
    }
    case 'python-syntax-error':
      // A def header without its colon: the kind of slip a truncated or hurried answer makes.
      return workflowReply({ ...parts, graph: parts.graph.replace(/(async def __call__\([^)]*\)):/, '$1') });
    case 'unknown-operator': {
      const ops = [...parts.graph.matchAll(/operator\.\w+\(self\.llm\)/g)];
      const last = ops.at(-1);
      if (!last) return workflowReply(parts);
      const at = last.index;
      const graph = parts.graph.slice(0, at) + 'operator.Telepathy(self.llm)' + parts.graph.slice(at + last[0].length);
      return workflowReply({ ...parts, graph });
    }
    case 'undefined-prompt':
      return workflowReply({ ...parts, graph: parts.graph.replace(/prompt_custom\.(\w+)/, 'prompt_custom.$1_REFINED') });
  }
}
