// Where each grpo-exchange/v1 file lives under a run root (trainer-contract.md §10.1), so writer, reader and server agree.
import path from 'node:path';

/** Six digits keep `ls` order equal to step order for any realistic run; larger steps still parse. */
export function stepDirName(step: number): string {
  return `step=${String(step).padStart(6, '0')}`;
}

const STEP_DIR = /^step=(\d+)$/;
const STEP_TMP_DIR = /^step=(\d+)\.tmp$/;

/** The step of a committed-looking directory name, or null for anything else (temp dirs included). */
export function parseStepDirName(name: string): number | null {
  const m = STEP_DIR.exec(name);
  return m?.[1] === undefined ? null : Number(m[1]);
}

export function parseStepTmpDirName(name: string): number | null {
  const m = STEP_TMP_DIR.exec(name);
  return m?.[1] === undefined ? null : Number(m[1]);
}

export function partFileName(index: number): string {
  return `part-${String(index).padStart(5, '0')}.parquet`;
}

export const exchangePaths = {
  runJson: (root: string): string => path.join(root, 'run.json'),
  /** The prompt set trainers read (§10.1, §10.2): `datasets/rl/train.parquet` and `val.parquet`. */
  rlPrompts: (root: string, split: 'train' | 'validation'): string => path.join(root, 'datasets', 'rl', split === 'train' ? 'train.parquet' : 'val.parquet'),
  rollouts: (root: string): string => path.join(root, 'rollouts'),
  stepDir: (root: string, step: number): string => path.join(root, 'rollouts', stepDirName(step)),
  stepTmpDir: (root: string, step: number): string => path.join(root, 'rollouts', `${stepDirName(step)}.tmp`),
  manifest: (stepDir: string): string => path.join(stepDir, '_MANIFEST.json'),
  success: (stepDir: string): string => path.join(stepDir, '_SUCCESS'),
  acks: (root: string): string => path.join(root, 'acks'),
  ack: (root: string, step: number, consumer: string): string => path.join(root, 'acks', `${stepDirName(step)}.${consumer}.json`),
  policyDir: (root: string): string => path.join(root, 'policy'),
  policyCurrent: (root: string): string => path.join(root, 'policy', 'current.json'),
  policyHistory: (root: string): string => path.join(root, 'policy', 'history.jsonl'),
};

const ACK_FILE = /^step=(\d+)\.([A-Za-z0-9_-]+)\.json$/;

export function parseAckFileName(name: string): { step: number; consumer: string } | null {
  const m = ACK_FILE.exec(name);
  if (m?.[1] === undefined || m[2] === undefined) return null;
  return { step: Number(m[1]), consumer: m[2] };
}
