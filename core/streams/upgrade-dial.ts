/**
 * The client side of an HTTP/1.1 upgrade on a socket read through BorrowedReads: Node's HTTP client
 * reads with 'data' events, which a socket created with `onread` never emits, so the request is
 * written and the response head (and, for a refusal, its body) parsed here. After a 101 the bytes
 * that followed the head are held in the reads for whoever reads the connection next.
 */
import type { Socket } from 'node:net';
import type { BorrowedReads } from './borrowed-reads.ts';

/** A response head larger than this is refused. */
const MAX_HEAD = 64 * 1024;
/** A refusal's body is read up to this size. */
const MAX_BODY = 1024 * 1024;

export interface ResponseHead {
  statusCode: number;
  /** Lower-case names; repeated headers keep every value in order. */
  headers: Map<string, string[]>;
}

/** An answer other than 101, with its body. */
export class UpgradeRefused extends Error {
  constructor(
    readonly statusCode: number,
    readonly body: string,
  ) {
    super(body || `the server answered ${statusCode}`);
    this.name = 'UpgradeRefused';
  }
}

/** The request head of a bodiless upgrade request (`headers` values may repeat a header). */
export function upgradeRequestHead(
  method: string,
  pathAndQuery: string,
  host: string,
  headers: Record<string, string | readonly string[]>,
): string {
  const lines = [`${method} ${pathAndQuery} HTTP/1.1`, `Host: ${host}`];
  for (const [name, value] of Object.entries(headers))
    for (const v of typeof value === 'string' ? [value] : value) lines.push(`${name}: ${v}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Parses a response head (status line and header lines, without the blank line). */
export function parseResponseHead(text: string): ResponseHead {
  const [statusLine = '', ...lines] = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(statusLine);
  if (!m) throw new Error(`malformed HTTP status line: ${JSON.stringify(statusLine.slice(0, 80))}`);
  const headers = new Map<string, string[]>();
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i <= 0) throw new Error(`malformed HTTP header line: ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, i).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(i + 1).trim()]);
  }
  return { statusCode: Number(m[1]), headers };
}

/**
 * A chunked body decoded, or undefined while incomplete. Trailers are skipped; a malformed size line
 * throws.
 */
export function decodeChunked(bytes: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let off = 0;
  for (;;) {
    const eol = bytes.indexOf('\r\n', off);
    if (eol < 0) return undefined;
    const size = parseInt(bytes.subarray(off, eol).toString('latin1').split(';')[0]!.trim(), 16);
    if (!Number.isFinite(size) || size < 0) throw new Error('malformed chunk size');
    if (size === 0) return Buffer.concat(parts);
    if (bytes.length < eol + 2 + size + 2) return undefined;
    parts.push(bytes.subarray(eol + 2, eol + 2 + size));
    off = eol + 2 + size + 2;
  }
}

/** A refusal's body once complete (by Content-Length, chunked coding or the connection's end). */
function completeBody(head: ResponseHead, bytes: Buffer, eof: boolean): Buffer | undefined {
  const te = head.headers.get('transfer-encoding')?.join(',').toLowerCase() ?? '';
  if (te.includes('chunked')) return decodeChunked(bytes) ?? (eof ? bytes : undefined);
  const cl = head.headers.get('content-length')?.[0];
  if (cl !== undefined) {
    const n = Number(cl);
    if (bytes.length >= n) return bytes.subarray(0, n);
    return eof ? bytes : undefined;
  }
  return eof || bytes.length >= MAX_BODY ? bytes.subarray(0, MAX_BODY) : undefined;
}

/**
 * Writes `requestHead` on `socket` (connected or connecting) and resolves with the response head
 * once it is a 101. Any other answer rejects with UpgradeRefused (status and body); a broken
 * connection, a malformed answer or `timeoutMs` without a head rejects with an Error.
 */
export function dialUpgrade(
  socket: Socket,
  reads: BorrowedReads,
  requestHead: string,
  timeoutMs = 30_000,
): Promise<ResponseHead> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    let head: ResponseHead | undefined;
    let bodyStart = 0;
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
      fn();
    };
    const fail = (e: Error): void =>
      settle(() => {
        socket.destroy();
        reject(e);
      });
    const check = (eof: boolean): void => {
      try {
        if (!head) {
          const i = buf.indexOf('\r\n\r\n');
          if (i < 0) {
            if (buf.length > MAX_HEAD) fail(new Error('the response head is too large'));
            else if (eof) fail(new Error('the connection closed before a response'));
            return;
          }
          head = parseResponseHead(buf.subarray(0, i).toString('latin1'));
          bodyStart = i + 4;
          if (head.statusCode === 101) {
            const h = head;
            return settle(() => {
              reads.release();
              reads.unshift(buf.subarray(bodyStart));
              resolve(h);
            });
          }
        }
        const body = completeBody(head, buf.subarray(bodyStart), eof);
        if (body) {
          const code = head.statusCode;
          fail(new UpgradeRefused(code, body.toString('utf8').trim()));
        }
      } catch (e) {
        fail(e as Error);
      }
    };
    const onEnd = (): void => check(true);
    const onError = (e: Error): void => fail(e);
    const timer = setTimeout(() => fail(new Error(`no upgrade within ${timeoutMs} ms`)), timeoutMs);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.once('error', onError);
    reads.setSink((bytes) => {
      buf = Buffer.concat([buf, bytes]);
      check(false);
      return true;
    });
    socket.write(requestHead);
  });
}
