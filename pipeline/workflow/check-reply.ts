// A meta-agent reply (the teacher's in distill, the policy's in grpo) → a runnable workflow or typed failures, checked against the operator registry.
import { checkReply } from './check.ts';
import { OPERATOR_NAMES } from './operators/registry.ts';

/** Parses and statically checks a meta-agent reply; stages take it as a dependency so their loops stay testable. */
export type ReplyChecker = (reply: string) => Promise<
  | { ok: true; modification: string; graph: string; prompt: string; metrics: Record<string, unknown> }
  | { ok: false; failures: Array<{ code: string; message: string; line?: number }> }
>;

export const checkMetaAgentReply: ReplyChecker = async (reply) => {
  const r = await checkReply(reply, { knownOperators: OPERATOR_NAMES });
  if (r.ok) return { ok: true, modification: r.modification, graph: r.graph, prompt: r.prompt, metrics: r.metrics as unknown as Record<string, unknown> };
  return { ok: false, failures: r.failures.map((f) => ({ code: f.code, message: f.message, ...(f.line !== null ? { line: f.line } : {}) })) };
};
