/**
 * SPDY/3.1 frames parsed from borrowed bytes (BorrowedReads: valid only during the call). A DATA
 * payload is copied once, straight into a buffer from a HeadroomPool (so it can go on as a WebSocket
 * channel message without another copy); control frames, rare and small, get their own buffer.
 */
import type { HeadroomPool } from '../headroom-pool.ts';
import { SPDY_VERSION, type Frame } from './frames.ts';

export class BorrowedFrameParser {
  private readonly header = Buffer.alloc(8);
  private headerFill = 0;
  /** The frame whose payload is being filled. */
  private body: Buffer | undefined;
  private bodyFill = 0;
  private word0 = 0;
  private flags = 0;

  constructor(private readonly pool: HeadroomPool) {}

  /** The frames completed by `bytes`, in order. Throws on a frame of another SPDY version. */
  push(bytes: Buffer): Frame[] {
    const frames: Frame[] = [];
    let off = 0;
    while (off < bytes.length) {
      if (!this.body) {
        const n = bytes.copy(this.header, this.headerFill, off, off + 8 - this.headerFill);
        this.headerFill += n;
        off += n;
        if (this.headerFill < 8) break;
        this.headerFill = 0;
        this.word0 = this.header.readUInt32BE(0);
        const word1 = this.header.readUInt32BE(4);
        this.flags = word1 >>> 24;
        const len = word1 & 0xffffff;
        const control = (this.word0 & 0x80000000) !== 0;
        if (control && ((this.word0 >>> 16) & 0x7fff) !== SPDY_VERSION)
          throw new Error(`spdy: unsupported version ${(this.word0 >>> 16) & 0x7fff}`);
        if (len === 0) {
          frames.push(this.complete(Buffer.alloc(0)));
          continue;
        }
        this.body = control ? Buffer.allocUnsafe(len) : this.pool.take(len);
        this.bodyFill = 0;
      }
      const n = bytes.copy(this.body, this.bodyFill, off, off + this.body.length - this.bodyFill);
      this.bodyFill += n;
      off += n;
      if (this.bodyFill === this.body.length) {
        frames.push(this.complete(this.body));
        this.body = undefined;
      }
    }
    return frames;
  }

  private complete(body: Buffer): Frame {
    if (this.word0 & 0x80000000)
      return { kind: 'control', type: this.word0 & 0xffff, flags: this.flags, payload: body };
    return { kind: 'data', streamId: this.word0 & 0x7fffffff, flags: this.flags, data: body };
  }
}
