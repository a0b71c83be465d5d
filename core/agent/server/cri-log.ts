/**
 * The CRI container log format containerd writes (one entry per file line):
 * `<RFC3339Nano timestamp> <stdout|stderr> <P|F> <content>`, where P marks a partial entry (a long
 * line cut at max_container_log_line_size) that the next entries continue, and F a line's last piece.
 * This parses entries and turns them into what `kubectl logs` shows, as the kubelet does: content
 * only, P pieces joined, an optional timestamp + space at the start of each line, sinceTime filtering
 * per entry, and limitBytes cutting the output.
 */

export interface LogEntry {
  /** The timestamp as written (RFC3339Nano). */
  timestamp: string;
  /** Nanoseconds since the epoch. */
  timeNs: bigint;
  stream: 'stdout' | 'stderr';
  partial: boolean;
  /** The content without the trailing newline. */
  content: Buffer;
}

const SPACE = 0x20;

/** Nanoseconds since the epoch of an RFC3339(Nano) timestamp; undefined when it is not one. */
export function parseTimestampNs(ts: string): bigint | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(ts);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]!}${m[3]!}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** One file line (without its newline); undefined for a malformed line. */
export function parseLogLine(line: Buffer): LogEntry | undefined {
  const a = line.indexOf(SPACE);
  const b = a < 0 ? -1 : line.indexOf(SPACE, a + 1);
  if (b < 0) return undefined;
  const timestamp = line.subarray(0, a).toString('latin1');
  const stream = line.subarray(a + 1, b).toString('latin1');
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const timeNs = parseTimestampNs(timestamp);
  if (timeNs === undefined) return undefined;
  // The tag field may carry more tags after a colon in newer runtimes ("F:x"); the first letter counts.
  const c = line.indexOf(SPACE, b + 1);
  const tag = line.subarray(b + 1, c < 0 ? line.length : c).toString('latin1');
  if (tag[0] !== 'P' && tag[0] !== 'F') return undefined;
  return {
    timestamp,
    timeNs,
    stream,
    partial: tag[0] === 'P',
    content: c < 0 ? Buffer.alloc(0) : line.subarray(c + 1),
  };
}

/** Splits bytes into complete lines; the unterminated rest is returned for the next read. */
export function splitLines(buf: Buffer): { lines: Buffer[]; rest: Buffer } {
  const lines: Buffer[] = [];
  let start = 0;
  for (let i = buf.indexOf(0x0a); i >= 0; i = buf.indexOf(0x0a, start)) {
    lines.push(buf.subarray(start, i));
    start = i + 1;
  }
  return { lines, rest: buf.subarray(start) };
}

/** Index of the first entry of the last `tail` output lines (a line = its P pieces and their F). */
export function tailStart(entries: readonly LogEntry[], tail: number): number {
  if (tail <= 0) return entries.length;
  let lines = 0;
  for (let i = entries.length - 1; i >= 0; i--) {
    const startsLine = i === 0 || !entries[i - 1]!.partial;
    if (startsLine && ++lines === tail) return i;
  }
  return 0;
}

export interface LogFormat {
  timestamps: boolean;
  /** Entries older than this are left out. */
  sinceNs?: bigint;
  /** Stop after this many bytes of output. */
  limitBytes?: number;
}

/** Turns entries into output bytes, keeping line state across calls (for follow). */
export class LogFormatter {
  private atLineStart = true;
  private written = 0;

  constructor(private readonly opts: LogFormat) {}

  /** True once limitBytes is reached: nothing more will be produced. */
  get exhausted(): boolean {
    return this.opts.limitBytes !== undefined && this.written >= this.opts.limitBytes;
  }

  format(entry: LogEntry): Buffer | undefined {
    if (this.exhausted) return undefined;
    if (this.opts.sinceNs !== undefined && entry.timeNs < this.opts.sinceNs) return undefined;
    const parts: Buffer[] = [];
    if (this.opts.timestamps && this.atLineStart) parts.push(Buffer.from(`${entry.timestamp} `, 'latin1'));
    parts.push(entry.content);
    if (!entry.partial) parts.push(Buffer.from('\n'));
    this.atLineStart = !entry.partial;
    let out = Buffer.concat(parts);
    if (this.opts.limitBytes !== undefined && this.written + out.length > this.opts.limitBytes)
      out = out.subarray(0, this.opts.limitBytes - this.written);
    this.written += out.length;
    return out;
  }
}
