// What every model-driven stage is handed by its command: the run's seed, data and partition, its run directory, the
// gateway, the sandboxed executor, the reply checker and the log. Each stage's deps extend this with its own section.
import type { PartitionSettings } from '../datasets/partition.ts';
import type { Gateway } from './gateway/gateway.ts';
import type { Logger } from './log/logger.ts';
import type { CodeExecutor } from './sandbox/create-executor.ts';
import type { RunStore } from './store/run-dir.ts';
import type { ReplyChecker } from './workflow/check-reply.ts';

export interface StageDeps {
  seed: number;
  dataDir: string | undefined;
  /** data.partition of the config: which tasks are train, validation and test. */
  partition: PartitionSettings;
  store: RunStore;
  gateway: Gateway;
  executor: CodeExecutor;
  checkReply: ReplyChecker;
  logger: Logger;
}
