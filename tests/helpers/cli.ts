// Runs the CLI from source as a user would from the shell (node + tsx), with the shared benchmark data.
import { runProcess, type Ran } from './trainer-python.ts';
import { sharedDatasets } from './tmp.ts';

export function runCli(args: readonly string[], env: Record<string, string> = {}): Promise<Ran> {
  return runProcess(process.execPath, ['--import', 'tsx', 'pipeline/cli/main.ts', ...args], { env: { FLOWREASONER_DATA_DIR: sharedDatasets, ...env } });
}
