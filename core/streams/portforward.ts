/**
 * port-forward. The API server reaches the pod's sandbox through ONE agent tunnel per user session to
 * the container runtime's streaming server (SPDY `portforward.k8s.io`), where every forwarded
 * connection is an error/data stream pair sharing a `requestid`:
 * - kubectl's SPDY (plain, or tunnelled in a WebSocket by 1.31+) already is that protocol: spliced
 *   through as bytes (pod-portforward.ts);
 * - client-node's WebSocket framing (channels 2i data / 2i+1 error per `ports` entry, each opened by
 *   the port as a little-endian uint16) is translated here onto one SPDY client session, port i on
 *   requestid i.
 * The agent's own /portForward WebSocket (`berth.portforward.v1`, one per connection) serves the
 * ingress (core/ingress/tunnel.ts).
 */
import WebSocket, { createWebSocketStream } from 'ws';
import type { Duplex } from 'node:stream';
import type { SpdyClientSession, SpdyClientStream } from './spdy/client.ts';
import { channelMessage, messageBuffer, parseChannelMessage, portPrefix } from './ws-channels.ts';
import { pipeToWebSocket } from './ws-pipe.ts';

export const PORTFORWARD_SPDY_PROTOCOL = 'portforward.k8s.io';
export const PORTFORWARD_TUNNEL_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';
export const AGENT_PORTFORWARD_PROTOCOL = 'berth.portforward.v1';

/** One forwarded connection on a streaming-server session: its error and data streams. */
export interface ForwardedPair {
  error: SpdyClientStream;
  data: SpdyClientStream;
  /** Resolves once both streams have ended (the pod side is done, a failure included); `data` must be read. */
  done: Promise<void>;
}

const ended = (s: SpdyClientStream): Promise<void> =>
  new Promise((resolve) => {
    if (s.readableEnded || s.destroyed) return resolve();
    s.once('end', () => resolve());
    s.once('close', () => resolve());
  });

/**
 * Opens the stream pair for one connection to `port`, as client-go does (error first, our side of it
 * ended at once); what the server writes on the error stream (e.g. connection refused) goes to
 * `onError`.
 */
export function openForwardedPair(
  session: SpdyClientSession,
  port: number,
  requestId: number,
  onError: (text: Buffer) => void,
): ForwardedPair {
  const headers = { port: String(port), requestid: String(requestId) };
  const error = session.openStream({ streamtype: 'error', ...headers });
  error.on('error', () => undefined);
  error.on('data', onError);
  error.end();
  const data = session.openStream({ streamtype: 'data', ...headers });
  data.on('error', () => undefined);
  return { error, data, done: Promise.all([ended(error), ended(data)]).then(() => undefined) };
}

/** client-node's WebSocket port-forward (`?ports=P[,Q]`) on one streaming-server session. */
export function relayWebSocketPortForward(
  user: WebSocket,
  ports: number[],
  session: SpdyClientSession,
): void {
  let over = 0;
  // The channel framing cannot half-close: the WebSocket ends once every port's pod side has ended.
  const portOver = (): void => {
    if (++over === ports.length && user.readyState === WebSocket.OPEN) user.close(1000);
  };
  const pairs = ports.map((port, i) => {
    const dataCh = 2 * i;
    const errCh = dataCh + 1;
    user.send(channelMessage(dataCh, portPrefix(port)));
    user.send(channelMessage(errCh, portPrefix(port)));
    const pair = openForwardedPair(session, port, i, (b) => {
      if (user.readyState === WebSocket.OPEN) user.send(channelMessage(errCh, b));
    });
    void pipeToWebSocket(pair.data, user, (b) => channelMessage(dataCh, b));
    void pair.done.then(portOver);
    return pair;
  });
  user.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
    const m = parseChannelMessage(messageBuffer(data), false);
    if (!m || m.kind !== 'data' || m.channel % 2 !== 0) return;
    const pair = pairs[m.channel / 2];
    if (pair && !pair.data.writableEnded && !pair.data.destroyed) pair.data.write(m.data);
  });
  user.on('close', () => session.close());
  session.onClose(() => {
    if (user.readyState === WebSocket.OPEN) user.close(1000);
  });
}

/** The WebSocket-tunnelled SPDY transport: a byte Duplex over binary messages (boundaries meaningless). */
export function webSocketByteStream(ws: WebSocket): Duplex {
  const s = createWebSocketStream(ws, { allowHalfOpen: false });
  s.on('error', () => s.destroy());
  return s;
}
