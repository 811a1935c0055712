// One place that turns the `sandbox` section into an executor: judging here (Executor) or on remote sandbox services
// (RemoteExecutor, when `sandbox.remote` is set). Both answer run(job) → ExecResult and close().
import { Executor } from './executor.ts';
import type { ExecJob, ExecResult } from './job.ts';
import { RemoteExecutor } from './remote/remote-executor.ts';
import { SandboxSchema, type SandboxConfig, type SandboxConfigInput } from './sandbox-config.ts';

/** What callers of either executor rely on. */
export interface CodeExecutor {
  /** The local `sandbox` settings (workflow runtimes and the AST service follow them either way). */
  readonly config: SandboxConfig;
  readonly info: { mode: 'bwrap' | 'process' | 'remote'; workers: number; warning: string | null };
  run(job: ExecJob): Promise<ExecResult>;
  close(): Promise<void>;
}

/** opts.keyEnvNames: as for Executor (the host-uid check); opts.env: where a remote token variable is read. */
export function createExecutor(input: SandboxConfigInput = {}, opts: { keyEnvNames?: readonly string[]; env?: NodeJS.ProcessEnv } = {}): Executor | RemoteExecutor {
  const config = SandboxSchema.parse(input);
  if (config.remote !== undefined) return new RemoteExecutor(config, opts.env !== undefined ? { env: opts.env } : {});
  return new Executor(config, opts.keyEnvNames !== undefined ? { keyEnvNames: opts.keyEnvNames } : {});
}

// Both classes must keep satisfying CodeExecutor; these fail to compile the day one of them drifts.
const localFits = (e: Executor): CodeExecutor => e;
const remoteFits = (e: RemoteExecutor): CodeExecutor => e;
void localFits;
void remoteFits;
