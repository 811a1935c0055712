// The operator registry: one list that both the runtime and the meta-agent's operator descriptions come from.
import type { OperatorSpec } from './operator-spec.ts';
import { custom } from './custom.ts';
import { customCodeGenerate } from './custom-code-generate.ts';
import { scEnsemble } from './sc-ensemble.ts';
import { test } from './test.ts';
import { review } from './review.ts';
import { revise } from './revise.ts';

export const OPERATORS: readonly OperatorSpec[] = [custom, customCodeGenerate, scEnsemble, test, review, revise];

export const OPERATOR_NAMES: readonly string[] = OPERATORS.map((o) => o.name);

export function operatorByName(name: string): OperatorSpec | undefined {
  return OPERATORS.find((o) => o.name === name);
}

/** The lines the meta-agent reads about the operators it may use (flowreasoner.md §3: one line per operator). */
export function describeOperators(ops: readonly OperatorSpec[] = OPERATORS): string {
  return ops.map((o, i) => `${i + 1}. ${o.name}: ${o.description} Build it as \`self.${o.attribute} = operator.${o.name}(self.llm)\`; call it as \`${o.interface}\`.`).join('\n');
}
