// What operators get from the host: the worker model (through the gateway), the executor, the task's public tests, and the trace.
import type { Gateway } from '../../gateway/gateway.ts';
import type { ChatMessage, CallContext } from '../../gateway/types.ts';
import type { CodeExecutor } from '../../sandbox/create-executor.ts';
import type { Task } from '../../../datasets/task.ts';

export interface WorkerReply {
  content: string;
  promptTokens: number;
  completionTokens: number;
  cost: number;
  cacheHit: boolean;
}

export interface OperatorContext {
  /** The task being solved: operators may run its public tests, never its hidden ones. */
  task: Task;
  /** One worker call, charged to this run (limits, cache, cost). */
  ask(messages: ChatMessage[], opts?: { temperature?: number }): Promise<WorkerReply>;
  /** The code the worker meant, out of a reply. */
  extractCode(text: string, entryPoint?: string): Promise<string>;
  executor: CodeExecutor;
  gateway: Gateway;
  callContext: CallContext;
  /** How many reflect-and-fix rounds the Test operator may use. */
  testFixRounds: number;
  signal: AbortSignal;
}
