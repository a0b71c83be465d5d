/**
 * The server side of a SPDY/3.1 connection as Kubernetes clients use it (moby/spdystream): the client
 * opens every stream; the server answers each SYN_STREAM with a SYN_REPLY at once, echoes PINGs,
 * ignores SETTINGS and WINDOW_UPDATE (spdystream never grants window, so the server never waits for
 * it), and keeps one zlib context per direction for header blocks.
 */
import { Duplex } from 'node:stream';
import { EventEmitter } from 'node:events';
import {
  encodeDataFrame,
  encodeGoaway,
  encodeRstStream,
  encodeSynReply,
  FLAG_FIN,
  type Frame,
  FrameReader,
  FrameType,
  parseStreamHeaders,
  parseSynStream,
  parseTwoWords,
  RstStatus,
  encodeControlFrame,
} from './frames.ts';
import { HeaderCompressor, HeaderDecompressor, type HeaderMap } from './header-codec.ts';

/** Server DATA frames are cut at this size (any size up to 2^24-1 is legal). */
const DATA_CHUNK = 32 * 1024;

/** One client-opened stream: readable = the client's DATA, writable = ours. */
export class SpdyStream extends Duplex {
  constructor(
    private readonly session: SpdySession,
    readonly id: number,
    readonly headers: HeaderMap,
  ) {
    super({ allowHalfOpen: true });
  }
  override _read(): void {
    /* data is pushed as it arrives (no flow control in spdystream) */
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.session.sendData(this.id, chunk, false, cb);
  }
  override _final(cb: (e?: Error | null) => void): void {
    this.session.sendData(this.id, Buffer.alloc(0), true, cb);
  }
  override _destroy(err: Error | null, cb: (e: Error | null) => void): void {
    this.session.streamDestroyed(this, this.writableFinished);
    cb(err);
  }
}

export interface SpdySessionEvents {
  stream: [SpdyStream];
  close: [];
}

export class SpdySession extends EventEmitter<SpdySessionEvents> {
  private readonly reader = new FrameReader();
  private readonly compressor = new HeaderCompressor();
  private readonly decompressor = new HeaderDecompressor();
  private readonly streams = new Map<number, SpdyStream>();
  private lastStreamId = 0;
  private closed = false;
  private goingAway = false;

  constructor(private readonly transport: Duplex) {
    super();
    transport.on('data', (chunk: Buffer) => this.onData(chunk));
    transport.on('end', () => this.close());
    transport.on('close', () => this.close());
    transport.on('error', () => this.close());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends GOAWAY and ends the transport once written (the client then closes). */
  goAway(): void {
    if (this.closed || this.goingAway) return;
    this.goingAway = true;
    this.transport.write(encodeGoaway(this.lastStreamId));
    this.transport.end();
    // A client that never closes its side is not waited for forever.
    setTimeout(() => this.close(), 5000).unref();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.streams.values()]) s.destroy();
    this.streams.clear();
    this.compressor.close();
    this.decompressor.close();
    this.transport.destroy();
    this.emit('close');
  }

  sendData(id: number, data: Buffer, fin: boolean, cb: (e?: Error | null) => void): void {
    if (this.closed) return cb(new Error('spdy: connection closed'));
    let ok = true;
    for (let off = 0; off < data.length; off += DATA_CHUNK) {
      const piece = data.subarray(off, Math.min(data.length, off + DATA_CHUNK));
      const last = off + DATA_CHUNK >= data.length;
      ok = this.transport.write(encodeDataFrame(id, piece, fin && last ? FLAG_FIN : 0));
    }
    if (!data.length) ok = this.transport.write(encodeDataFrame(id, data, fin ? FLAG_FIN : 0));
    if (ok) cb();
    else this.transport.once('drain', () => cb());
  }

  streamDestroyed(s: SpdyStream, finishedCleanly: boolean): void {
    if (this.streams.get(s.id) !== s) return;
    this.streams.delete(s.id);
    if (!this.closed && !(finishedCleanly && s.readableEnded))
      this.transport.write(encodeRstStream(s.id, RstStatus.CANCEL));
  }

  private onData(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.reader.push(chunk);
      for (const f of frames) {
        if (this.closed) return;
        if (f.kind === 'data') this.onDataFrame(f.streamId, f.flags, f.data);
        else this.onControl(f.type, f.flags, f.payload);
      }
    } catch {
      this.close(); // a protocol error ends the connection
    }
  }

  private onDataFrame(id: number, flags: number, data: Buffer): void {
    const s = this.streams.get(id);
    if (!s) return; // data for a reset or unknown stream
    if (data.length && !s.readableEnded) s.push(Buffer.from(data));
    if (flags & FLAG_FIN) this.remoteEnd(s);
  }

  private remoteEnd(s: SpdyStream): void {
    if (!s.readableEnded) s.push(null);
    // Once both directions are done the stream is forgotten (no RST needed).
    if (s.writableFinished) this.streams.delete(s.id);
    else s.once('finish', () => this.streams.get(s.id) === s && s.readableEnded && this.streams.delete(s.id));
  }

  private onControl(type: number, flags: number, payload: Buffer): void {
    switch (type) {
      case FrameType.SYN_STREAM: {
        const { streamId, headerBlock } = parseSynStream(payload);
        const headers = this.decompressor.decompress(headerBlock);
        if (streamId <= this.lastStreamId || this.goingAway) {
          this.transport.write(encodeRstStream(streamId, RstStatus.PROTOCOL_ERROR));
          return;
        }
        this.lastStreamId = streamId;
        const s = new SpdyStream(this, streamId, headers);
        this.streams.set(streamId, s);
        this.transport.write(encodeSynReply(streamId, this.compressor.compress({})));
        this.emit('stream', s);
        if (flags & FLAG_FIN) this.remoteEnd(s);
        return;
      }
      case FrameType.SYN_REPLY:
      case FrameType.HEADERS: {
        // Only to keep the decompression context in step: servers get no replies, extra headers are ignored.
        const { headerBlock } = parseStreamHeaders(payload);
        this.decompressor.decompress(headerBlock);
        return;
      }
      case FrameType.RST_STREAM: {
        const [id] = parseTwoWords(payload);
        const s = this.streams.get(id);
        if (s) {
          this.streams.delete(id);
          s.destroy();
        }
        return;
      }
      case FrameType.PING:
        this.transport.write(encodeControlFrame(FrameType.PING, 0, payload));
        return;
      case FrameType.GOAWAY:
        this.goAway();
        return;
      default:
        return; // SETTINGS, WINDOW_UPDATE, NOOP, CREDENTIAL: nothing to do
    }
  }
}
