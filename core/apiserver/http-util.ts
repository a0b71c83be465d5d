/** Small HTTP helpers: bounded body reading and JSON/Status replies. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errors, isStatusError, StatusError } from '../api/status.ts';

/** Requests over 3 MiB are refused with 413, as kube-apiserver does. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw errors.tooLarge('limit is 3145728');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > limit) {
      req.resume();
      throw errors.tooLarge('limit is 3145728');
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

export function sendJSON(
  res: ServerResponse,
  code: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, private',
    ...headers,
  });
  res.end(text);
}

export function sendText(
  res: ServerResponse,
  code: number,
  text: string,
  contentType = 'text/plain; charset=utf-8',
): void {
  res.writeHead(code, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(text),
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(text);
}

export function toStatusError(e: unknown): StatusError {
  if (isStatusError(e)) return e;
  return errors.internal(e);
}

export function sendError(res: ServerResponse, e: unknown): void {
  const se = toStatusError(e);
  sendJSON(res, se.status.code, se.status, se.headers);
}

export function warningHeader(messages: string[]): Record<string, string> {
  return messages.length ? { Warning: messages.map((m) => `299 - ${JSON.stringify(m)}`).join(', ') } : {};
}
