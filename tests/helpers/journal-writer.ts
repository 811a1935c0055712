// Child process for kill -9 and disk-full tests: appends numbered records to a journal as fast as it can.
import { Journal } from '../../pipeline/store/journal.ts';

const [file, maxArg, padArg] = process.argv.slice(2);
if (file === undefined) throw new Error('usage: journal-writer FILE [MAX] [PAD]');
const max = Number(maxArg ?? 1e9);
const pad = 'x'.repeat(Number(padArg ?? 200));
const { journal } = await Journal.open<{ seq: number; pad: string }>(file);
let written = 0;
try {
  // Several appends in flight at once, as a real stage does.
  while (written < max) {
    const batch = Array.from({ length: 8 }, (_, i) => journal.append({ seq: written + i, pad }));
    await Promise.all(batch);
    written += batch.length;
    process.stdout.write(`${written}\n`);
  }
  await journal.close();
  process.stdout.write(JSON.stringify({ done: true, written }) + '\n');
} catch (e) {
  process.stdout.write(JSON.stringify({ done: false, written, code: (e as { code?: string }).code }) + '\n');
}
