// The structured logger: JSON lines into the run directory (pino), never to the terminal.
import { destination, pino, stdTimeFunctions, type Logger } from 'pino';

export type { Logger };

export function createRunLogger(file: string, level: string): Logger {
  // sync: a line is in the file before the next statement runs, so a kill -9 loses no log line that was written.
  return pino(
    { level, base: { pid: process.pid }, timestamp: stdTimeFunctions.isoTime, redact: { paths: ['*.apiKey', '*.headers', '*.authorization'], censor: '<redacted>' } },
    destination({ dest: file, sync: true, mkdir: true }),
  );
}
