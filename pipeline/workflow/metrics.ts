// Complexity metrics of one workflow graph, read from its AST: the raw material of the complexity reward and of reports.
import { z } from 'zod';

/**
 * Every count is over the graph module after provided-name imports were removed (see check.ts), so repeating the
 * AFlow header neither costs nor earns anything. Definitions are ours: the paper names an "AST complexity" term
 * without a formula (flowreasoner.md §8).
 */
export const WorkflowMetricsSchema = z.strictObject({
  operatorCallSites: z
    .int()
    .min(0)
    .describe('Calls of an operator object: self.<attr>(...) where <attr> was assigned operator.X(...), a local alias of one, or operator.X(...)(...).'),
  operatorInstantiations: z.int().min(0).describe('operator.X(...) constructor calls, counted apart from the call sites.'),
  distinctOperators: z.int().min(0).describe('Distinct operator classes among the call sites.'),
  loops: z.int().min(0).describe('for / async for / while statements plus comprehensions (list, set, dict, generator).'),
  branches: z.int().min(0).describe('if and each elif, conditional expressions, and match cases other than an irrefutable catch-all.'),
  maxDepth: z.int().min(0).describe('Deepest nesting of if/for/while/try/with/match inside Workflow.__call__ (an elif sits beside its if).'),
  nonBlankLines: z.int().min(0).describe('Lines of the graph module that are not blank (comments count).'),
  astNodes: z.int().min(0).describe('AST nodes of the graph module, without context and operator-kind leaves (Load, Add, ...).'),
  gatherSites: z.int().min(0).describe('asyncio.gather(...) calls: places where operator calls fan out in parallel.'),
});
export type WorkflowMetrics = z.infer<typeof WorkflowMetricsSchema>;
