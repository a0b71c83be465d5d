/**
 * port-forward relays. Every forwarded TCP connection becomes ONE agent WebSocket
 * (`berth.portforward.v1`: binary = bytes, text "EOF" = the sender's direction ended, any other text =
 * the pod-side error, e.g. connection refused, followed by close 1011).
 *
 * User sides: SPDY (plain or tunnelled in a WebSocket) with an error/data stream pair per connection
 * keyed by `requestid`; and client-node's WebSocket framing (channels 2i/2i+1 per `ports` entry, each
 * opened by the port as a little-endian uint16).
 */
import WebSocket, { createWebSocketStream } from 'ws';
import type { Duplex } from 'node:stream';
import type { SpdySession, SpdyStream } from './spdy/session.ts';
import { channelMessage, messageBuffer, parseChannelMessage, portPrefix } from './ws-channels.ts';

export const PORTFORWARD_SPDY_PROTOCOL = 'portforward.k8s.io';
export const PORTFORWARD_TUNNEL_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';
export const AGENT_PORTFORWARD_PROTOCOL = 'berth.portforward.v1';

/** Opens the agent WebSocket for one connection to `port`. */
export type DialPort = (port: number) => Promise<WebSocket>;

/** What one forwarded connection reports back to the user side. */
interface ConnectionSink {
  data(b: Buffer): boolean;
  /** The pod side's direction ended. */
  end(): void;
  error(text: string): void;
  /** Everything is over: release the user's resources. */
  done(): void;
  /** Called when the user side can take more after data() returned false. */
  onDrain(cb: () => void): void;
}

/** A forwarded connection: the agent WebSocket and a user sink. Returns user → agent handlers. */
function forwardConnection(
  dial: DialPort,
  port: number,
  sink: ConnectionSink,
): { write(b: Buffer): void; end(): void; close(): void } {
  let agent: WebSocket | undefined;
  let closed = false;
  const queue: (Buffer | string)[] = [];
  const send = (m: Buffer | string): void => {
    if (!agent) queue.push(m);
    else if (agent.readyState === WebSocket.OPEN) agent.send(m, { binary: typeof m !== 'string' });
  };
  dial(port).then(
    (ws) => {
      if (closed) return ws.close(1000);
      agent = ws;
      for (const m of queue.splice(0)) send(m);
      ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
        const b = messageBuffer(data);
        if (isBinary) {
          if (!sink.data(b)) {
            ws.pause();
            sink.onDrain(() => ws.resume());
          }
        } else if (b.toString('utf8') === 'EOF') sink.end();
        else sink.error(b.toString('utf8'));
      });
      ws.on('close', () => {
        closed = true;
        sink.done();
      });
    },
    (e: unknown) => {
      closed = true;
      sink.error(e instanceof Error ? e.message : String(e));
      sink.done();
    },
  );
  return {
    write: (b) => send(b),
    end: () => send('EOF'),
    close: () => {
      closed = true;
      agent?.close(1000);
    },
  };
}

function parsePort(v: string | undefined): number | undefined {
  if (!v || !/^\d+$/.test(v)) return undefined;
  const n = Number(v);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/** SPDY port-forward (kubectl, plain or tunnelled). */
export function relaySpdyPortForward(session: SpdySession, dial: DialPort): void {
  const pairs = new Map<string, { error?: SpdyStream; data?: SpdyStream; started?: boolean }>();
  const conns = new Set<{ close(): void }>();
  session.on('close', () => {
    for (const c of conns) c.close();
    conns.clear();
  });
  session.on('stream', (s) => {
    s.on('error', () => undefined);
    const type = s.headers['streamtype'];
    const id = s.headers['requestid'] ?? s.headers['port'] ?? '';
    const pair = pairs.get(id) ?? {};
    pairs.set(id, pair);
    if (type === 'error') {
      pair.error = s;
      s.resume(); // the client FINs its side at once
    } else if (type === 'data') pair.data = s;
    else {
      s.destroy();
      return;
    }
    if (!pair.error || !pair.data || pair.started) return;
    pair.started = true;
    const { error, data } = pair as { error: SpdyStream; data: SpdyStream };
    const finish = (): void => {
      pairs.delete(id);
      if (!data.writableEnded) data.end();
      if (!error.writableEnded) error.end();
    };
    const port = parsePort(data.headers['port']);
    if (port === undefined) {
      error.write(`invalid port: ${JSON.stringify(data.headers['port'] ?? '')}`);
      return finish();
    }
    const conn = forwardConnection(dial, port, {
      data: (b) => data.writableEnded || data.write(b),
      // The pod side ending ends the whole forward (containerd closes the pod connection then), as
      // the kubelet does: FIN both streams. kubectl waits for the error stream before it closes.
      end: finish,
      error: (text) => !error.writableEnded && error.write(text),
      done: () => {
        conns.delete(conn);
        finish();
      },
      onDrain: (cb) => data.once('drain', cb),
    });
    conns.add(conn);
    data.on('data', (b: Buffer) => conn.write(b));
    data.on('end', () => conn.end());
    data.on('close', () => {
      if (!data.readableEnded || !data.writableFinished) conn.close();
    });
  });
}

/** client-node's WebSocket port-forward: `?ports=P[,Q]` with channels 2i (data) and 2i+1 (error). */
export function relayWebSocketPortForward(user: WebSocket, ports: number[], dial: DialPort): void {
  const over = new Set<number>();
  // The channel framing cannot half-close: the WebSocket ends once every port's pod side has ended.
  const portOver = (i: number): void => {
    over.add(i);
    if (over.size === ports.length && user.readyState === WebSocket.OPEN) user.close(1000);
  };
  const conns = ports.map((port, i) => {
    const dataCh = 2 * i;
    const errCh = dataCh + 1;
    user.send(channelMessage(dataCh, portPrefix(port)));
    user.send(channelMessage(errCh, portPrefix(port)));
    const conn = forwardConnection(dial, port, {
      data: (b) => {
        if (user.readyState === WebSocket.OPEN) user.send(channelMessage(dataCh, b));
        return user.bufferedAmount < 4 * 1024 * 1024;
      },
      end: () => portOver(i),
      error: (text) => user.readyState === WebSocket.OPEN && user.send(channelMessage(errCh, text)),
      done: () => portOver(i),
      onDrain: (cb) => {
        const t = setInterval(() => {
          if (user.readyState !== WebSocket.OPEN || user.bufferedAmount < 1024 * 1024) {
            clearInterval(t);
            cb();
          }
        }, 10);
      },
    });
    return conn;
  });
  user.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
    const m = parseChannelMessage(messageBuffer(data), false);
    if (!m || m.kind !== 'data' || m.channel % 2 !== 0) return;
    conns[m.channel / 2]?.write(m.data);
  });
  user.on('close', () => {
    for (const c of conns) c.close();
  });
}

/** The WebSocket-tunnelled SPDY transport: a byte Duplex over binary messages (boundaries meaningless). */
export function webSocketByteStream(ws: WebSocket): Duplex {
  const s = createWebSocketStream(ws, { allowHalfOpen: false });
  s.on('error', () => s.destroy());
  return s;
}
