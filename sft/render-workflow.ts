// A round's workflow as the meta-agent must write it: <modification>, <graph>, <prompt>, each closed (flowreasoner.md §3).
import type { RoundInput } from './trace-input.ts';

/**
 * Rendered from the round's stored parts rather than copied from the raw teacher reply: the reply may carry
 * prose, fences or drafts around the tags, while the stored parts are exactly what was run and scored.
 * parseReply (pipeline/workflow/reply.ts) reads this text back to the same parts.
 */
export function renderWorkflow(round: Pick<RoundInput, 'modification' | 'graph' | 'prompt'>): string {
  return `<modification>\n${round.modification.trim()}\n</modification>\n<graph>\n${block(round.graph)}\n</graph>\n<prompt>\n${block(round.prompt)}\n</prompt>`;
}

/** Outer blank lines go; the first line keeps its indentation, so the module's own indentation is not disturbed. */
function block(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(/^(?:[ \t]*\n)+/, '').trimEnd();
}
