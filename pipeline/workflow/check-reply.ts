// A teacher reply → a runnable workflow or typed failures, checked against the operator registry (what distill needs).
import { checkReply } from './check.ts';
import { OPERATOR_NAMES } from './operators/registry.ts';

/** Parses and statically checks a teacher reply; stages take it as a dependency so their loops stay testable. */
export type ReplyChecker = (reply: string) => Promise<
  | { ok: true; modification: string; graph: string; prompt: string; metrics: Record<string, unknown> }
  | { ok: false; failures: Array<{ code: string; message: string; line?: number }> }
>;

export const checkTeacherReply: ReplyChecker = async (reply) => {
  const r = await checkReply(reply, { knownOperators: OPERATOR_NAMES });
  if (r.ok) return { ok: true, modification: r.modification, graph: r.graph, prompt: r.prompt, metrics: r.metrics as unknown as Record<string, unknown> };
  return { ok: false, failures: r.failures.map((f) => ({ code: f.code, message: f.message, ...(f.line !== null ? { line: f.line } : {}) })) };
};
