/**
 * SPDY/3.1 framing. Control frames: C bit + version 3 (16 bits), type (16), flags (8), length (24),
 * payload. Data frames: C=0 + stream id (31 bits), flags (8), length (24), payload.
 */
export const SPDY_VERSION = 3;
export const FLAG_FIN = 0x01;
export const MAX_FRAME_PAYLOAD = 0xffffff;

export const FrameType = {
  SYN_STREAM: 1,
  SYN_REPLY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  HEADERS: 8,
  WINDOW_UPDATE: 9,
} as const;

/** RST_STREAM status codes used here. */
export const RstStatus = { PROTOCOL_ERROR: 1, INVALID_STREAM: 2, CANCEL: 5, INTERNAL_ERROR: 6 } as const;

export type Frame =
  | { kind: 'data'; streamId: number; flags: number; data: Buffer }
  | { kind: 'control'; type: number; flags: number; payload: Buffer };

export function encodeDataFrame(streamId: number, data: Buffer, flags = 0): Buffer {
  if (data.length > MAX_FRAME_PAYLOAD) throw new Error('spdy: data frame too large');
  const h = Buffer.alloc(8);
  h.writeUInt32BE(streamId & 0x7fffffff, 0);
  h.writeUInt32BE(((flags & 0xff) << 24) | data.length, 4);
  return data.length ? Buffer.concat([h, data]) : h;
}

export function encodeControlFrame(type: number, flags: number, payload: Buffer): Buffer {
  if (payload.length > MAX_FRAME_PAYLOAD) throw new Error('spdy: control frame too large');
  const h = Buffer.alloc(8);
  h.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  h.writeUInt16BE(type, 2);
  h.writeUInt32BE(((flags & 0xff) << 24) | payload.length, 4);
  return Buffer.concat([h, payload]);
}

const u32 = (...ns: number[]): Buffer => {
  const b = Buffer.alloc(4 * ns.length);
  ns.forEach((n, i) => b.writeUInt32BE(n >>> 0, 4 * i));
  return b;
};

export function encodeSynStream(streamId: number, headerBlock: Buffer, flags = 0): Buffer {
  // stream id, associated-to stream id, priority (3 bits) + unused + slot
  return encodeControlFrame(
    FrameType.SYN_STREAM,
    flags,
    Buffer.concat([u32(streamId & 0x7fffffff, 0), Buffer.from([0, 0]), headerBlock]),
  );
}

export function encodeSynReply(streamId: number, headerBlock: Buffer, flags = 0): Buffer {
  return encodeControlFrame(
    FrameType.SYN_REPLY,
    flags,
    Buffer.concat([u32(streamId & 0x7fffffff), headerBlock]),
  );
}

export function encodeRstStream(streamId: number, status: number): Buffer {
  return encodeControlFrame(FrameType.RST_STREAM, 0, u32(streamId & 0x7fffffff, status));
}

export function encodePing(id: number): Buffer {
  return encodeControlFrame(FrameType.PING, 0, u32(id));
}

export function encodeGoaway(lastGoodStreamId: number, status = 0): Buffer {
  return encodeControlFrame(FrameType.GOAWAY, 0, u32(lastGoodStreamId & 0x7fffffff, status));
}

/** The fields of a SYN_STREAM payload. */
export function parseSynStream(payload: Buffer): { streamId: number; headerBlock: Buffer } {
  if (payload.length < 10) throw new Error('spdy: short SYN_STREAM');
  return { streamId: payload.readUInt32BE(0) & 0x7fffffff, headerBlock: payload.subarray(10) };
}

/** SYN_REPLY and HEADERS: stream id then the header block. */
export function parseStreamHeaders(payload: Buffer): { streamId: number; headerBlock: Buffer } {
  if (payload.length < 4) throw new Error('spdy: short header frame');
  return { streamId: payload.readUInt32BE(0) & 0x7fffffff, headerBlock: payload.subarray(4) };
}

/** RST_STREAM and GOAWAY: two 32-bit words (stream id, status). */
export function parseTwoWords(payload: Buffer): [number, number] {
  if (payload.length < 8) throw new Error('spdy: short frame');
  return [payload.readUInt32BE(0) & 0x7fffffff, payload.readUInt32BE(4)];
}

/**
 * Reassembles frames from a byte stream whose chunk boundaries mean nothing. Chunks are kept as they
 * arrive and joined only when a frame spans several, so each byte is copied at most once.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private total = 0;

  push(chunk: Buffer): Frame[] {
    if (chunk.length) {
      this.chunks.push(chunk);
      this.total += chunk.length;
    }
    const frames: Frame[] = [];
    while (this.total >= 8) {
      const head = this.peek(8);
      const word0 = head.readUInt32BE(0);
      const word1 = head.readUInt32BE(4);
      const len = word1 & 0xffffff;
      if (this.total < 8 + len) break;
      const frame = this.take(8 + len);
      const flags = word1 >>> 24;
      const body = frame.subarray(8);
      if (word0 & 0x80000000) {
        const version = (word0 >>> 16) & 0x7fff;
        if (version !== SPDY_VERSION) throw new Error(`spdy: unsupported version ${version}`);
        frames.push({ kind: 'control', type: word0 & 0xffff, flags, payload: body });
      } else {
        frames.push({ kind: 'data', streamId: word0 & 0x7fffffff, flags, data: body });
      }
    }
    return frames;
  }

  /** The first n buffered bytes, without consuming them. */
  private peek(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    const joined = Buffer.concat(this.chunks);
    this.chunks = [joined];
    return joined.subarray(0, n);
  }

  /** Removes and returns the first n buffered bytes (n <= total). */
  private take(n: number): Buffer {
    this.total -= n;
    const first = this.chunks[0]!;
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    if (first.length === n) {
      this.chunks.shift();
      return first;
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - off);
      c.copy(out, off, 0, k);
      off += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }
}
