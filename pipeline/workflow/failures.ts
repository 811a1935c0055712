// The typed ways a meta-agent reply or its workflow can be malformed: each becomes a format-reward category and a feedback line.
import { z } from 'zod';

/** Ordered roughly from "nothing usable" to "usable but breaks a rule". */
export const WORKFLOW_FAILURE_CODES = [
  'empty-reply',
  'missing-modification',
  'missing-graph',
  'missing-prompt',
  'syntax-error',
  'missing-workflow-class',
  'missing-call',
  'unknown-operator',
  'undefined-prompt',
  'forbidden-import',
  'forbidden-name',
  'private-attribute',
  'module-attribute',
  'prompt-not-constant',
] as const;

export const WorkflowFailureCodeSchema = z.enum(WORKFLOW_FAILURE_CODES);
export type WorkflowFailureCode = z.infer<typeof WorkflowFailureCodeSchema>;

/** Which text a failure's line refers to: the whole reply, or the graph / prompt module as extracted from its tag. */
export const FailureWhereSchema = z.enum(['reply', 'graph', 'prompt']);
export type FailureWhere = z.infer<typeof FailureWhereSchema>;

export const WorkflowFailureSchema = z.strictObject({
  code: WorkflowFailureCodeSchema,
  where: FailureWhereSchema,
  line: z.int().min(1).nullable().describe('1-based line in `where`; null when the failure has no single place (e.g. a tag that never appears).'),
  col: z.int().min(1).nullable().describe('1-based character column, when known.'),
  message: z.string().describe('What went wrong, phrased as feedback the meta-agent can act on.'),
});
export type WorkflowFailure = z.infer<typeof WorkflowFailureSchema>;

export function workflowFailure(
  code: WorkflowFailureCode,
  where: FailureWhere,
  message: string,
  at: { line?: number | null; col?: number | null } = {},
): WorkflowFailure {
  return { code, where, line: at.line ?? null, col: at.col ?? null, message };
}

const WHERE_ORDER: Record<FailureWhere, number> = { reply: 0, graph: 1, prompt: 2 };

/** Stable order for reports and feedback: by text, then position (placeless failures first). */
export function sortFailures(failures: readonly WorkflowFailure[]): WorkflowFailure[] {
  return [...failures].sort(
    (a, b) => WHERE_ORDER[a.where] - WHERE_ORDER[b.where] || (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0) || a.code.localeCompare(b.code),
  );
}

/** One feedback line, e.g. `graph line 12, col 9: unknown-operator: operator.Foo is not an available operator`. */
export function formatFailure(f: WorkflowFailure): string {
  const place = f.line === null ? f.where : `${f.where} line ${f.line}${f.col === null ? '' : `, col ${f.col}`}`;
  return `${place}: ${f.code}: ${f.message}`;
}
