// Splits the workflow runtime's byte stream into lines with a hard cap, so a line that never ends is never buffered whole.

/**
 * Longest protocol line (UTF-8 bytes, newline excluded) the host accepts from a workflow runtime. An operator call
 * carries the problem and a few solutions, far below this; a longer line can only come from a runaway or hostile
 * workflow, and reading it whole would let the sandboxed code choose how much memory the host spends.
 */
export const MAX_PROTOCOL_LINE_BYTES = 8 * 1024 * 1024;

const NEWLINE = 0x0a;

/**
 * Feed it chunks with push(); it calls onLine for each complete line (decoded as UTF-8, invalid bytes replaced) and
 * onOverflow once, as soon as the line being read passes maxLineBytes. After an overflow, or after stop(), every
 * further byte is dropped: the caller is expected to end the peer (readline would have kept growing its buffer).
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private pending = 0;
  private stopped = false;

  constructor(
    private readonly maxLineBytes: number,
    private readonly onLine: (line: string) => void,
    private readonly onOverflow: (bytesSeen: number) => void,
  ) {
    if (!Number.isSafeInteger(maxLineBytes) || maxLineBytes < 1) throw new RangeError(`maxLineBytes must be a positive integer, got ${maxLineBytes}`);
  }

  /** Whether it still accepts bytes (false after an overflow or stop()). */
  get active(): boolean {
    return !this.stopped;
  }

  /** Bytes of the unfinished line held right now (never more than maxLineBytes). */
  get buffered(): number {
    return this.pending;
  }

  push(chunk: Buffer): void {
    let start = 0;
    while (!this.stopped && start < chunk.length) {
      const nl = chunk.indexOf(NEWLINE, start);
      const end = nl < 0 ? chunk.length : nl;
      if (this.pending + (end - start) > this.maxLineBytes) {
        const seen = this.pending + (end - start);
        this.stop();
        this.onOverflow(seen);
        return;
      }
      if (nl < 0) {
        // Copied: a view would pin the whole chunk, and the stream may hand us large ones.
        this.parts.push(Buffer.from(chunk.subarray(start)));
        this.pending += chunk.length - start;
        return;
      }
      const tail = chunk.subarray(start, nl);
      const line = this.parts.length === 0 ? tail : Buffer.concat([...this.parts, tail]);
      this.parts = [];
      this.pending = 0;
      start = nl + 1;
      this.onLine(line.toString('utf8'));
    }
  }

  /** Drops what is buffered and ignores every later byte. */
  stop(): void {
    this.stopped = true;
    this.parts = [];
    this.pending = 0;
  }
}
