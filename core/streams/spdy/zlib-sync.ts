/**
 * Synchronous (de)compression on ONE long-lived zlib context, as SPDY header blocks need (each block is
 * flushed with Z_SYNC_FLUSH and the next continues the same stream). Node's public *Sync functions
 * are one-shot: their internal processChunkSync closes the context after each call (Node 18–22), so
 * a second block fails with "Cannot read properties of null (reading 'writeSync')". This drives the
 * stream's native handle the way processChunkSync does, without closing it.
 */
import zlib from 'node:zlib';

interface NativeZlib {
  writeSync(
    flush: number,
    input: Buffer,
    inOff: number,
    inLen: number,
    out: Buffer,
    outOff: number,
    outLen: number,
  ): void;
}

interface ZlibInternals {
  _handle: NativeZlib | null;
  /** [availOutAfter, availInAfter] after each writeSync. */
  _writeState: Uint32Array;
}

const OUT_CHUNK = 16 * 1024;

export class SyncZlibContext {
  private error: Error | undefined;
  private closed = false;

  constructor(private readonly z: zlib.Deflate | zlib.Inflate) {
    z.on('error', (e: Error) => (this.error = e));
  }

  static deflate(dictionary: Buffer): SyncZlibContext {
    return new SyncZlibContext(zlib.createDeflate({ dictionary }));
  }

  static inflate(dictionary: Buffer): SyncZlibContext {
    return new SyncZlibContext(zlib.createInflate({ dictionary }));
  }

  /** Feeds `data` and returns everything produced up to a sync flush. */
  syncFlush(data: Buffer): Buffer {
    const internals = this.z as unknown as ZlibInternals;
    const handle = internals._handle;
    // Writing to a closed native context aborts the process: refuse here.
    if (!handle || this.closed) throw new Error('zlib: context closed');
    if (this.error) throw this.error;
    const state = internals._writeState;
    const out: Buffer[] = [];
    let inOff = 0;
    let inLen = data.length;
    for (;;) {
      const buf = Buffer.allocUnsafe(OUT_CHUNK);
      handle.writeSync(zlib.constants.Z_SYNC_FLUSH, data, inOff, inLen, buf, 0, buf.length);
      // A data error destroys the stream at once (its 'error' event comes later): stop using the handle.
      if (this.error || this.z.destroyed || internals._handle !== handle) {
        this.closed = true;
        throw this.error ?? new Error('zlib: invalid compressed data');
      }
      const availOut = state[0] ?? 0;
      const availIn = state[1] ?? 0;
      if (buf.length - availOut) out.push(buf.subarray(0, buf.length - availOut));
      inOff += inLen - availIn;
      inLen = availIn;
      // Output space left over means zlib has flushed everything it had.
      if (availOut !== 0) break;
    }
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  }

  close(): void {
    this.closed = true;
    this.z.close();
  }
}
