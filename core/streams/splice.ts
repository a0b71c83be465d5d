/**
 * Joins two byte streams both ways (a tunnel: the API server between kubectl and the agent, the agent
 * between the API server and containerd's streaming server). Bytes are passed as they come, with
 * back-pressure (a MiB queued per direction at most). One side ending ends the other's writing once flushed (half-close carried
 * through); one side closing or failing closes the other (after a flush when it closed cleanly, at
 * once on an error).
 */
import type { Duplex } from 'node:stream';
import type { BorrowedReads } from './borrowed-reads.ts';
import { SlabWriter } from './slab-writer.ts';

/** How long a side whose peer closed gets to flush before it is destroyed. */
const FLUSH_GRACE_MS = 5000;

/**
 * A side's reading pauses only once this much waits to be written to the other. pipe() pauses at the
 * socket's 16 KiB high-water mark, i.e. after nearly every 16–64 KiB chunk: a stop and a restart of
 * reading per chunk on every hop, which made bulk output (exec of 100 MiB) stall hop by hop.
 */
const HIGH_WATER = 1024 * 1024;

/** Copies `from` into `to`: pauses `from` while more than HIGH_WATER is queued, ends `to` at the end. */
function pump(from: Duplex, to: Duplex): void {
  from.on('data', (chunk: Buffer) => {
    if (to.destroyed) return;
    to.write(chunk);
    if (to.writableLength > HIGH_WATER && !from.isPaused()) {
      from.pause();
      // 'drain' comes once the queue is empty (a write has returned false by then).
      to.once('drain', () => from.resume());
    }
  });
  from.once('end', () => {
    if (!to.destroyed && !to.writableEnded) to.end();
  });
}

export interface Splice {
  /** Resolves once both sides are closed. */
  closed: Promise<void>;
  /** Destroys both sides. */
  destroy(): void;
}

function endThenDestroy(s: Duplex): void {
  if (s.destroyed) return;
  const t = setTimeout(() => s.destroy(), FLUSH_GRACE_MS);
  t.unref();
  s.once('close', () => clearTimeout(t));
  s.once('finish', () => s.destroy());
  if (s.writableFinished) s.destroy();
  else s.end();
}

const whenClosed = (s: Duplex): Promise<void> =>
  new Promise((resolve) => (s.destroyed && s.closed ? resolve() : s.once('close', () => resolve())));

/** Copies `from`, read through borrowed reads, into `to` (see SlabWriter); ends `to` at the end. */
function pumpBorrowed(from: Duplex, reads: BorrowedReads, to: Duplex): void {
  const w = new SlabWriter(to, () => reads.resume());
  reads.setSink((bytes) => w.write(bytes));
  from.once('end', () => w.end());
}

export interface SpliceOptions {
  /** Bytes already read from `a`, for `b` (written first). */
  headForB?: Buffer;
  /** Bytes already read from `b`, for `a` (written first). */
  headForA?: Buffer;
  /** `b` was created with these as its `onread`: it is read through them instead of 'data'. */
  bReads?: BorrowedReads;
}

/** Splices `a` and `b`. */
export function splice(a: Duplex, b: Duplex, opts: SpliceOptions = {}): Splice {
  const { headForB, headForA, bReads } = opts;
  const destroy = (): void => {
    a.destroy();
    b.destroy();
  };
  // Each direction is ended by the other side's end (pump), not by a socket's own reaction to a FIN.
  a.allowHalfOpen = true;
  b.allowHalfOpen = true;
  if (a.destroyed || b.destroyed) destroy();
  a.on('error', destroy);
  b.on('error', destroy);
  a.once('close', () => endThenDestroy(b));
  b.once('close', () => endThenDestroy(a));
  if (headForB?.length) b.write(headForB);
  if (headForA?.length) a.write(headForA);
  pump(a, b);
  if (bReads) pumpBorrowed(b, bReads, a);
  else pump(b, a);
  return { closed: Promise.all([whenClosed(a), whenClosed(b)]).then(() => undefined), destroy };
}
