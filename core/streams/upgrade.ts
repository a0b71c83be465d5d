/**
 * HTTP/1.1 upgrade plumbing for streaming subresources: refusing an upgrade with a Status (so kubectl
 * 1.30+ falls back to SPDY and then prints the same error), accepting `Upgrade: SPDY/3.1`, and
 * accepting a WebSocket with one chosen subprotocol (ws, no compression).
 */
import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';

export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
}

export function isSpdyUpgrade(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').toLowerCase().startsWith('spdy/3.1');
}

/** Comma-separated header values (repeated headers included), trimmed, in order. */
export function headerList(req: IncomingMessage, name: string): string[] {
  return (req.headersDistinct[name] ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

/** The first value the client offers that the server supports (upstream's httpstream handshake). */
export function negotiate(offered: string[], supported: readonly string[]): string | undefined {
  return offered.find((p) => supported.includes(p));
}

/** Answers an upgrade request with a JSON body and closes the connection. */
export function rejectUpgrade(socket: Duplex, code: number, body: unknown): void {
  if (socket.destroyed) return;
  const text = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? 'Error'}\r\n` +
      'Content-Type: application/json\r\n' +
      'Cache-Control: no-cache, private\r\n' +
      `Content-Length: ${Buffer.byteLength(text)}\r\n` +
      'Connection: close\r\n\r\n' +
      text,
  );
  socket.once('finish', () => socket.destroy());
}

/** Sends the 101 for SPDY/3.1 (the socket then carries SPDY frames, or is spliced to a tunnel). */
export function switchToSpdy(socket: Duplex, protocol: string): void {
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\n' +
      'Connection: Upgrade\r\n' +
      'Upgrade: SPDY/3.1\r\n' +
      `X-Stream-Protocol-Version: ${protocol}\r\n\r\n`,
  );
  keepSocketOpen(socket);
}

/** Sends the 101 for SPDY/3.1 and returns the socket, with any early bytes put back. */
export function acceptSpdy(socket: Duplex, head: Buffer, protocol: string): Duplex {
  switchToSpdy(socket, protocol);
  if (head.length) socket.unshift(head);
  return socket;
}

/**
 * Long-lived streams must not inherit any idle timeout from the HTTP server; TCP keep-alives notice a
 * vanished peer; small writes (a SYN_REPLY, a keystroke) go out at once.
 */
export function keepSocketOpen(socket: Duplex): void {
  const s = socket as Duplex & {
    setTimeout?: (ms: number) => void;
    setKeepAlive?: (on: boolean, ms: number) => void;
    setNoDelay?: (on: boolean) => void;
  };
  s.setTimeout?.(0);
  s.setKeepAlive?.(true, 30_000);
  s.setNoDelay?.(true);
}

/** The protocol each pending handshake answers with (handleProtocols is asked per request). */
const chosenProtocol = new WeakMap<IncomingMessage, string>();
const wss = new WebSocketServer({
  noServer: true,
  perMessageDeflate: false,
  clientTracking: false,
  handleProtocols: (_offered, req) => chosenProtocol.get(req) ?? false,
});

/** Completes a WebSocket handshake answering with `protocol`. */
export function acceptWebSocket(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  protocol: string,
): Promise<WebSocket> {
  keepSocketOpen(socket);
  chosenProtocol.set(req, protocol);
  // ws parses the offered list as RFC 6455 tokens and refuses the handshake (400 "Invalid
  // Sec-WebSocket-Protocol header") for kubectl's `SPDY/3.1+portforward.k8s.io`, whose '/' is not a
  // token character. The choice is made already: hand ws a valid token; the reply carries `protocol`.
  req.headers['sec-websocket-protocol'] = 'berth-chosen';
  return new Promise((resolve, reject) => {
    // ws answers a malformed handshake itself and never calls back: the socket closing tells us.
    const onClose = (): void => reject(new Error('connection closed during the WebSocket handshake'));
    socket.once('close', onClose);
    wss.handleUpgrade(req, socket, head, (ws) => {
      socket.off('close', onClose);
      ws.on('error', () => ws.terminate());
      resolve(ws);
    });
  });
}
