// What an operator is: its name, the description and interface the meta-agent reads, its arguments and its host-side implementation.
import type { z } from 'zod';
import type { OperatorContext } from './operator-context.ts';

export interface OperatorSpec<Args = Record<string, unknown>> {
  /** Class name used in graphs: `operator.<name>(self.llm)`. */
  name: string;
  /** The attribute name graphs conventionally bind it to (`self.custom_code_generate`). */
  attribute: string;
  /** One sentence for the meta-agent: what it does and when it helps. */
  description: string;
  /** The call as the meta-agent should write it, with the result's keys. */
  interface: string;
  /** Parameter names in order (positional arguments map onto these). */
  params: string[];
  args: z.ZodType<Args>;
  run(args: Args, ctx: OperatorContext): Promise<Record<string, unknown>>;
}

/** Erases the argument type so specs of different operators share one list. */
export function defineOperator<Args>(spec: OperatorSpec<Args>): OperatorSpec {
  return spec as unknown as OperatorSpec;
}
