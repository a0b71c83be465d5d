/**
 * Buffers with spare bytes in front, reused. A SPDY DATA payload received into one becomes a whole
 * WebSocket frame — header, channel byte, payload — by filling those bytes: no copy, and one socket
 * write (ws writes a header and a payload as two, which TLS then joins with another copy). Payloads
 * live in the shared slabs (slab-pool.ts); one is reused only once given back with `give`, so a
 * consumer that keeps one (an error stream collecting its text) is safe: that one is left to the GC.
 */

/** The largest server-to-client frame header (2 bytes + a 64-bit length; no mask) and a channel byte. */
const HEADROOM = 10 + 1;
import { giveSlab, isLentSlab, SLAB_SIZE, takeSlab } from './slab-pool.ts';

/** The size of a server-to-client WebSocket frame header for a payload of `n` bytes. */
const headerLength = (n: number): number => (n < 126 ? 2 : n < 65536 ? 4 : 10);

/** Writes a binary frame's header (FIN, opcode 2, unmasked) for a payload of `n` bytes at `buf[0]`. */
export function writeBinaryFrameHeader(buf: Buffer, n: number): void {
  buf[0] = 0x82;
  if (n < 126) buf[1] = n;
  else if (n < 65536) {
    buf[1] = 126;
    buf.writeUInt16BE(n, 2);
  } else {
    buf[1] = 127;
    buf.writeBigUInt64BE(BigInt(n), 2);
  }
}

export class HeadroomPool {
  /** Oversized buffers this pool handed out (not slabs): their first HEADROOM bytes are spare too. */
  private readonly oversized = new WeakSet<ArrayBuffer>();

  /** A buffer of `length` bytes with spare bytes before it (contents undefined). */
  take(length: number): Buffer {
    if (length + HEADROOM <= SLAB_SIZE) return Buffer.from(takeSlab(), HEADROOM, length);
    const ab = new ArrayBuffer(length + HEADROOM);
    this.oversized.add(ab);
    return Buffer.from(ab, HEADROOM, length);
  }

  /**
   * `view` (from take()) as a complete binary WebSocket frame whose payload is `channel` then the
   * view's bytes; undefined for a buffer that did not come from take().
   */
  webSocketFrame(view: Buffer, channel: number): Buffer | undefined {
    const ab = view.buffer;
    const mine = isLentSlab(ab) || (ab instanceof ArrayBuffer && this.oversized.has(ab));
    if (!mine || view.byteOffset !== HEADROOM) return undefined;
    const h = headerLength(view.length + 1);
    const frame = Buffer.from(ab, HEADROOM - 1 - h, h + 1 + view.length);
    writeBinaryFrameHeader(frame, view.length + 1);
    frame[h] = channel;
    return frame;
  }

  /** Gives back a buffer from take() or webSocketFrame(), no longer used by anyone. */
  give(view: Buffer): void {
    giveSlab(view.buffer);
  }
}
