/**
 * SPDY/3 header blocks: a 32-bit pair count, then per pair a 32-bit name length, the name, a 32-bit
 * value length and the value (several values are NUL-separated). Each connection direction has ONE
 * zlib context (with the SPDY/3 dictionary) for its whole life; every block ends with a sync flush.
 *
 * zlib: a header block must be (de)compressed in frame order and in the same context, synchronously
 * (zlib-sync.ts).
 */
import { SyncZlibContext } from './zlib-sync.ts';
import { SPDY3_DICTIONARY } from './dictionary.ts';

export type HeaderMap = Record<string, string>;

export function encodeHeaderBlock(headers: HeaderMap): Buffer {
  const entries = Object.entries(headers);
  const parts: Buffer[] = [u32(entries.length)];
  for (const [k, v] of entries) {
    const name = Buffer.from(k.toLowerCase(), 'utf8');
    const value = Buffer.from(v, 'utf8');
    parts.push(u32(name.length), name, u32(value.length), value);
  }
  return Buffer.concat(parts);
}

/** Decodes a header block; names are lower-cased, repeated values keep the first. */
export function decodeHeaderBlock(block: Buffer): HeaderMap {
  const out: HeaderMap = {};
  if (block.length < 4) throw new Error('spdy: header block too short');
  const count = block.readUInt32BE(0);
  let off = 4;
  const take = (): string => {
    if (off + 4 > block.length) throw new Error('spdy: truncated header block');
    const len = block.readUInt32BE(off);
    off += 4;
    if (off + len > block.length) throw new Error('spdy: truncated header block');
    const s = block.toString('utf8', off, off + len);
    off += len;
    return s;
  };
  for (let i = 0; i < count; i++) {
    const name = take().toLowerCase();
    const value = take();
    if (!(name in out)) out[name] = value.split('\0')[0] ?? '';
  }
  return out;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** One direction's compression context (what we send). */
export class HeaderCompressor {
  private readonly z = SyncZlibContext.deflate(SPDY3_DICTIONARY);
  compress(headers: HeaderMap): Buffer {
    return this.z.syncFlush(encodeHeaderBlock(headers));
  }
  close(): void {
    this.z.close();
  }
}

/** One direction's decompression context (what the peer sends). */
export class HeaderDecompressor {
  private readonly z = SyncZlibContext.inflate(SPDY3_DICTIONARY);
  decompress(data: Buffer): HeaderMap {
    return decodeHeaderBlock(this.z.syncFlush(data));
  }
  close(): void {
    this.z.close();
  }
}
