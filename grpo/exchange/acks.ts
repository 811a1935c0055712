// Consumer acks (`acks/step=N.<consumer>.json`, §10.4): written once per step and consumer, which is what makes consumption exactly-once.
import { randomBytes } from 'node:crypto';
import { link, mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { ExchangeError } from './errors.ts';
import { fsyncDir, writeFileSynced } from '../../pipeline/store/durable-fs.ts';
import { exchangePaths, parseAckFileName } from './layout.ts';
import { listCommittedSteps } from './rollout-reader.ts';
import { AckSchema, ConsumerIdSchema, type Ack } from './schema.ts';

export interface WriteAckResult {
  /** The ack on disk: the new one, or the earlier one when this was a repeat. */
  ack: Ack;
  created: boolean;
}

export async function readAck(root: string, step: number, consumer: string): Promise<Ack | null> {
  let text: string;
  try {
    text = await readFile(exchangePaths.ack(root, step, ConsumerIdSchema.parse(consumer)), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  return AckSchema.parse(JSON.parse(text));
}

/**
 * Writes the ack unless one exists. The file appears atomically and at most once: it is written to a temp name, then
 * hard-linked to its final name, and link(2) fails if the name exists, so two racing acks cannot both win.
 * A repeat with the same status (a retried POST) returns the first ack; a different status throws `ack-conflict`.
 */
export async function writeAck(root: string, ack: Ack): Promise<WriteAckResult> {
  const valid = AckSchema.parse(ack);
  const dir = exchangePaths.acks(root);
  const file = exchangePaths.ack(root, valid.step, valid.consumer);
  await mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  await writeFileSynced(tmp, `${JSON.stringify(valid, null, 2)}\n`);
  try {
    await link(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const existing = await readAck(root, valid.step, valid.consumer);
    if (existing === null) throw e;
    if (existing.status !== valid.status) {
      throw new ExchangeError('ack-conflict', `step ${valid.step} is already acked by ${valid.consumer} as ${existing.status}, not ${valid.status}`);
    }
    return { ack: existing, created: false };
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  await fsyncDir(dir);
  return { ack: valid, created: true };
}

/** Every ack file name under acks/, parsed; temp files and strangers are skipped. */
export async function listAcks(root: string): Promise<Array<{ step: number; consumer: string }>> {
  let names: string[];
  try {
    names = await readdir(exchangePaths.acks(root));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return names.flatMap((n) => {
    const p = parseAckFileName(n);
    return p === null ? [] : [p];
  });
}

/** Committed steps that `consumer` has not acked, ascending: what it still has to consume. `known`: see listCommittedSteps. */
export async function unackedSteps(root: string, consumer: string, known?: Set<number>): Promise<number[]> {
  ConsumerIdSchema.parse(consumer);
  const acked = new Set((await listAcks(root)).filter((a) => a.consumer === consumer).map((a) => a.step));
  return (await listCommittedSteps(root, known)).filter((s) => !acked.has(s));
}

/** Consumers that acked `step`, sorted. */
export async function ackedConsumers(root: string, step: number): Promise<string[]> {
  return (await listAcks(root))
    .filter((a) => a.step === step)
    .map((a) => a.consumer)
    .sort();
}

/**
 * Whether every registered consumer acked `step`: the condition for deleting it (§10.4). The registry is the caller's
 * (run config); an empty registry is never "all acked", so a misconfiguration cannot delete data.
 */
export async function isStepFullyAcked(root: string, step: number, consumers: readonly string[]): Promise<boolean> {
  if (consumers.length === 0) return false;
  const acked = new Set(await ackedConsumers(root, step));
  return consumers.every((c) => acked.has(c));
}

