/**
 * Writes borrowed bytes (BorrowedReads) to a stream by copying them into reused 64 KiB slabs
 * (slab-pool.ts): a slab goes back when its write completes, so a bulk transfer allocates nothing per
 * chunk. Reads that arrive in one turn of the event loop (the 16 KiB records of one TLS read) share a
 * slab and go out as one write, flushed by setImmediate (no added latency beyond the current turn).
 * At most MAX_IN_FLIGHT slabs wait to be written (1 MiB, like splice's queue); `write` returns false
 * then, and `onSpace` is called once a slab comes back.
 */
import type { Writable } from 'node:stream';
import { giveSlab, SLAB_SIZE, takeSlab } from './slab-pool.ts';

const MAX_IN_FLIGHT = 16;

export class SlabWriter {
  private slab: Buffer | undefined;
  private fill = 0;
  private inFlight = 0;
  private flushQueued = false;
  private ending = false;

  constructor(
    private readonly to: Writable,
    private readonly onSpace: () => void,
  ) {}

  /** Copies `bytes` (valid only during the call) for writing; false = stop reading for now. */
  write(bytes: Buffer): boolean {
    if (this.ending || this.to.destroyed || this.to.writableEnded) return true; // dropped, as a pipe would
    for (let off = 0; off < bytes.length;) {
      if (!this.slab) {
        this.slab = Buffer.from(takeSlab());
        this.fill = 0;
      }
      const n = bytes.copy(this.slab, this.fill, off);
      this.fill += n;
      off += n;
      if (this.fill === SLAB_SIZE) this.flush();
    }
    if (this.fill > 0 && !this.flushQueued) {
      this.flushQueued = true;
      setImmediate(() => {
        this.flushQueued = false;
        this.flush();
      });
    }
    return this.inFlight < MAX_IN_FLIGHT;
  }

  /** Writes what is pending, then ends the destination. */
  end(): void {
    if (this.ending) return;
    this.flush();
    this.ending = true;
    if (!this.to.destroyed && !this.to.writableEnded) this.to.end();
  }

  private flush(): void {
    const slab = this.slab;
    if (!slab || this.fill === 0) return;
    const n = this.fill;
    this.slab = undefined;
    this.fill = 0;
    if (this.to.destroyed || this.to.writableEnded) return giveSlab(slab.buffer);
    this.inFlight++;
    this.to.write(slab.subarray(0, n), () => this.release(slab));
  }

  private release(slab: Buffer): void {
    this.inFlight--;
    giveSlab(slab.buffer);
    if (this.inFlight === MAX_IN_FLIGHT - 1) this.onSpace();
  }
}
