// Token and cost accounting per role, stage and query, and the budgets that stop work cleanly.
import { PipelineError } from '../errors.ts';
import type { Price } from '../config/endpoint-schema.ts';
import type { CallContext, Usage } from './types.ts';

export interface Budget {
  maxCostUsd?: number;
  maxCostPerQueryUsd?: number;
  maxTokens?: number;
}

export interface Tally {
  calls: number;
  cacheHits: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  reasoningTokens: number;
  cost: number;
}

const emptyTally = (): Tally => ({ calls: 0, cacheHits: 0, errors: 0, promptTokens: 0, completionTokens: 0, reasoningTokens: 0, cost: 0 });

export function costOf(usage: Usage, price: Price): number {
  const cached = price.cachedInputPerMTok !== undefined ? Math.min(usage.cachedPromptTokens, usage.promptTokens) : 0;
  const fresh = usage.promptTokens - cached;
  return (fresh * price.inputPerMTok + cached * (price.cachedInputPerMTok ?? 0) + usage.completionTokens * price.outputPerMTok) / 1e6;
}

export class Accounting {
  readonly total: Tally = emptyTally();
  readonly byRole = new Map<string, Tally>();
  readonly byStage = new Map<string, Tally>();
  readonly byQuery = new Map<string, Tally>();
  readonly errorsByClass = new Map<string, number>();
  private readonly budget: Budget;

  constructor(budget: Budget = {}) {
    this.budget = budget;
  }

  private add(map: Map<string, Tally>, key: string, f: (t: Tally) => void): void {
    let t = map.get(key);
    if (t === undefined) {
      t = emptyTally();
      map.set(key, t);
    }
    f(t);
  }

  record(e: { role: string; context?: CallContext; usage: Usage; cost: number; cacheHit: boolean; ok: boolean; errorClass?: string | null }): void {
    const apply = (t: Tally): void => {
      t.calls++;
      if (e.cacheHit) t.cacheHits++;
      if (!e.ok) t.errors++;
      t.promptTokens += e.usage.promptTokens;
      t.completionTokens += e.usage.completionTokens;
      t.reasoningTokens += e.usage.reasoningTokens;
      t.cost += e.cost;
    };
    apply(this.total);
    this.add(this.byRole, e.role, apply);
    if (e.context?.stage !== undefined) this.add(this.byStage, e.context.stage, apply);
    if (e.context?.queryId !== undefined) this.add(this.byQuery, e.context.queryId, apply);
    if (e.errorClass) this.errorsByClass.set(e.errorClass, (this.errorsByClass.get(e.errorClass) ?? 0) + 1);
  }

  /** Which budget is exhausted for this context, or null. */
  exceeded(context?: CallContext): string | null {
    const b = this.budget;
    if (b.maxCostUsd !== undefined && this.total.cost >= b.maxCostUsd) return `run cost $${this.total.cost.toFixed(4)} reached budget.maxCostUsd=$${b.maxCostUsd}`;
    if (b.maxTokens !== undefined && this.total.promptTokens + this.total.completionTokens >= b.maxTokens) {
      return `run tokens ${this.total.promptTokens + this.total.completionTokens} reached budget.maxTokens=${b.maxTokens}`;
    }
    const q = context?.queryId;
    if (q !== undefined && b.maxCostPerQueryUsd !== undefined) {
      const spent = this.byQuery.get(q)?.cost ?? 0;
      if (spent >= b.maxCostPerQueryUsd) return `query ${q} cost $${spent.toFixed(4)} reached budget.maxCostPerQueryUsd=$${b.maxCostPerQueryUsd}`;
    }
    return null;
  }

  /** Throws budget-exceeded before a new call would start past a budget; calls already running finish. */
  check(context?: CallContext): void {
    const why = this.exceeded(context);
    if (why !== null) {
      throw new PipelineError('budget-exceeded', why, { hint: 'Raise the budget in the config (budget.*) and --resume the run to go on.' });
    }
  }
}
