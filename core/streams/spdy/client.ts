/**
 * The client side of a SPDY/3.1 connection, as client-go speaks it to a kubelet-style streaming server
 * (containerd's CRI streaming server in a node): an HTTP `Upgrade: SPDY/3.1` request, then streams the
 * client opens (odd ids) with a `streamtype` header, DATA both ways, FIN to end a direction. The server
 * answers each SYN_STREAM with a SYN_REPLY (read only to keep the header zlib context in step). No flow
 * control (spdystream grants no window and ignores ours).
 */
import { Duplex } from 'node:stream';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import {
  encodeControlFrame,
  encodeDataFrame,
  encodeGoaway,
  encodeRstStream,
  encodeSynStream,
  FLAG_FIN,
  type Frame,
  FrameReader,
  FrameType,
  parseStreamHeaders,
  parseSynStream,
  parseTwoWords,
  RstStatus,
} from './frames.ts';
import { HeaderCompressor, HeaderDecompressor, type HeaderMap } from './header-codec.ts';
import { keepSocketOpen } from '../upgrade.ts';
import { BorrowedReads } from '../borrowed-reads.ts';
import { dialUpgrade, upgradeRequestHead } from '../upgrade-dial.ts';
import { HeadroomPool } from '../headroom-pool.ts';
import { BorrowedFrameParser } from './borrowed-frame-parser.ts';

const DATA_CHUNK = 32 * 1024;

/** A stream this client opened: writable = our DATA, readable = the server's. */
export class SpdyClientStream extends Duplex {
  constructor(
    private readonly session: SpdyClientSession,
    readonly id: number,
    readonly headers: HeaderMap,
  ) {
    // Output is buffered up to 1 MiB before the connection pauses (with the default 16 KiB every
    // 32 KiB DATA frame paused and resumed the transport's reading).
    super({ allowHalfOpen: true, readableHighWaterMark: 1024 * 1024 });
  }
  override _read(): void {
    this.session.resumeTransport();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.session.sendData(this.id, chunk, false, cb);
  }
  override _final(cb: (e?: Error | null) => void): void {
    this.session.sendData(this.id, Buffer.alloc(0), true, cb);
  }
  override _destroy(err: Error | null, cb: (e: Error | null) => void): void {
    this.session.forget(this);
    cb(err);
  }
}

export class SpdyClientSession {
  /**
   * Where DATA payloads are received when the transport is read through BorrowedReads: a consumer
   * may turn one into a WebSocket frame in place (`pool.webSocketFrame`) and give it back.
   */
  readonly pool = new HeadroomPool();
  private readonly compressor = new HeaderCompressor();
  private readonly decompressor = new HeaderDecompressor();
  private readonly streams = new Map<number, SpdyClientStream>();
  private nextId = 1;
  private closed = false;
  private readonly closeHandlers: (() => void)[] = [];

  /** `reads`: the transport was created with them as its `onread` (it emits no 'data'). */
  constructor(
    private readonly transport: Duplex,
    reads?: BorrowedReads,
  ) {
    if (reads) {
      const parser = new BorrowedFrameParser(this.pool);
      reads.setSink((bytes) => {
        this.onFrames(() => parser.push(bytes));
        return true; // a slow stream pauses the transport itself (onDataFrame)
      });
    } else {
      const reader = new FrameReader();
      transport.on('data', (chunk: Buffer) => this.onFrames(() => reader.push(chunk)));
    }
    transport.on('end', () => this.close());
    transport.on('close', () => this.close());
    transport.on('error', () => this.close());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  onClose(cb: () => void): void {
    if (this.closed) cb();
    else this.closeHandlers.push(cb);
  }

  /** Opens a stream with these headers (names are sent lower-case). */
  openStream(headers: HeaderMap): SpdyClientStream {
    if (this.closed) throw new Error('spdy: connection closed');
    const id = this.nextId;
    this.nextId += 2;
    const s = new SpdyClientStream(this, id, headers);
    this.streams.set(id, s);
    this.transport.write(encodeSynStream(id, this.compressor.compress(headers)));
    return s;
  }

  sendData(id: number, data: Buffer, fin: boolean, cb: (e?: Error | null) => void): void {
    if (this.closed) return cb(new Error('spdy: connection closed'));
    let ok = true;
    for (let off = 0; off < data.length; off += DATA_CHUNK) {
      const piece = data.subarray(off, Math.min(data.length, off + DATA_CHUNK));
      ok = this.transport.write(
        encodeDataFrame(id, piece, fin && off + DATA_CHUNK >= data.length ? FLAG_FIN : 0),
      );
    }
    if (!data.length) ok = this.transport.write(encodeDataFrame(id, data, fin ? FLAG_FIN : 0));
    if (ok) cb();
    else this.transport.once('drain', () => cb());
  }

  resumeTransport(): void {
    if (!this.closed) this.transport.resume();
  }

  forget(s: SpdyClientStream): void {
    if (this.streams.get(s.id) === s) this.streams.delete(s.id);
  }

  /** GOAWAY, then the connection ends (also when the server closes it). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.transport.destroyed && this.transport.writable) this.transport.write(encodeGoaway(0));
    // Streams end rather than being destroyed: what they already received can still be read.
    for (const s of this.streams.values()) if (!s.readableEnded) s.push(null);
    this.streams.clear();
    this.compressor.close();
    this.decompressor.close();
    this.transport.destroy();
    for (const cb of this.closeHandlers.splice(0)) cb();
  }

  private onFrames(parse: () => Frame[]): void {
    try {
      for (const f of parse()) {
        if (this.closed) return;
        if (f.kind === 'data') this.onDataFrame(f.streamId, f.flags, f.data);
        else this.onControl(f.type, f.flags, f.payload);
      }
    } catch {
      this.close();
    }
  }

  private onDataFrame(id: number, flags: number, data: Buffer): void {
    const s = this.streams.get(id);
    if (!s) return;
    // A reader that falls behind pauses the whole connection (TCP back-pressure to the server).
    if (data.length && !s.readableEnded && !s.push(data)) this.transport.pause();
    if (flags & FLAG_FIN && !s.readableEnded) s.push(null);
  }

  private onControl(type: number, flags: number, payload: Buffer): void {
    switch (type) {
      case FrameType.SYN_REPLY:
      case FrameType.HEADERS: {
        const { streamId, headerBlock } = parseStreamHeaders(payload);
        this.decompressor.decompress(headerBlock);
        const s = this.streams.get(streamId);
        if (s && flags & FLAG_FIN && !s.readableEnded) s.push(null);
        return;
      }
      case FrameType.SYN_STREAM: {
        // Servers of this protocol never open streams.
        const { streamId, headerBlock } = parseSynStream(payload);
        this.decompressor.decompress(headerBlock);
        this.transport.write(encodeRstStream(streamId, RstStatus.PROTOCOL_ERROR));
        return;
      }
      case FrameType.RST_STREAM: {
        const [id] = parseTwoWords(payload);
        const s = this.streams.get(id);
        if (s) {
          this.streams.delete(id);
          if (!s.readableEnded) s.push(null);
          s.destroy();
        }
        return;
      }
      case FrameType.PING:
        this.transport.write(encodeControlFrame(FrameType.PING, 0, payload));
        return;
      case FrameType.GOAWAY:
        this.close();
        return;
      default:
        return;
    }
  }
}

/** The headers of a SPDY/3.1 upgrade request offering `protocols`. */
export function spdyUpgradeHeaders(protocols: readonly string[]): Record<string, string | string[]> {
  return {
    Connection: 'Upgrade',
    Upgrade: 'SPDY/3.1',
    'X-Stream-Protocol-Version': [...protocols],
    'Content-Length': '0',
  };
}

/**
 * Writes a SPDY/3.1 upgrade request for `pathAndQuery` offering `protocols` on `socket` (created with
 * `reads.onread`) and waits for the 101; resolves with the protocol the server chose. A refusal rejects
 * with UpgradeRefused (status and body).
 */
async function upgradeToSpdy(
  socket: Socket,
  reads: BorrowedReads,
  pathAndQuery: string,
  host: string,
  protocols: readonly string[],
  timeoutMs: number,
): Promise<string> {
  reads.attach(socket);
  const head = await dialUpgrade(
    socket,
    reads,
    upgradeRequestHead('POST', pathAndQuery, host, spdyUpgradeHeaders(protocols)),
    timeoutMs,
  );
  keepSocketOpen(socket);
  return head.headers.get('x-stream-protocol-version')?.[0] ?? '';
}

/** A SPDY/3.1 connection upgraded over TLS, read through `reads` (the bytes after the 101 are held there). */
export interface SpdyTlsConnection {
  socket: TLSSocket;
  reads: BorrowedReads;
  protocol: string;
}

/** Dials `options` (host, port, certificates) over TLS and upgrades `pathAndQuery` to SPDY/3.1. */
export async function dialSpdyTls(
  options: ConnectionOptions & { host: string; port: number },
  pathAndQuery: string,
  protocols: readonly string[],
  timeoutMs = 30_000,
): Promise<SpdyTlsConnection> {
  const reads = new BorrowedReads();
  // tls.connect takes net's `onread` (Node's tls docs); @types/node leaves it out of ConnectionOptions.
  const withReads: ConnectionOptions & { onread: BorrowedReads['onread'] } = {
    ...options,
    onread: reads.onread,
  };
  const socket = tlsConnect(withReads);
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const protocol = await upgradeToSpdy(
    socket,
    reads,
    pathAndQuery,
    `${host}:${options.port}`,
    protocols,
    timeoutMs,
  );
  return { socket, reads, protocol };
}

/**
 * Upgrades an HTTP connection to `url` (plain http, e.g. containerd's streaming server on loopback) to
 * SPDY/3.1 offering `protocols`; resolves with the session and the protocol the server chose.
 */
export async function dialSpdy(
  url: string,
  protocols: readonly string[],
  timeoutMs = 30_000,
): Promise<{ session: SpdyClientSession; protocol: string }> {
  const u = new URL(url);
  if (u.protocol !== 'http:') throw new Error(`unsupported streaming server URL ${url}`);
  const reads = new BorrowedReads();
  const socket = connect({
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: Number(u.port || 80),
    onread: reads.onread,
  });
  const protocol = await upgradeToSpdy(
    socket,
    reads,
    `${u.pathname}${u.search}`,
    u.host,
    protocols,
    timeoutMs,
  );
  return { session: new SpdyClientSession(socket, reads), protocol };
}
