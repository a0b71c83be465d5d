/**
 * The way to a pod from the host: the pod's node agent relays a TCP connection to the pod port
 * (`GET /portForward/{ns}/{pod}?port=P`, WebSocket `berth.portforward.v1`, the tunnel kubectl
 * port-forward uses). This file turns that WebSocket into a byte Duplex for http.request's
 * createConnection: binary messages are bytes; a text "EOF" ends the agent's direction (and ending our
 * side sends "EOF"); any other text is the pod-side failure (e.g. connection refused) and destroys the
 * stream with that message.
 */
import { Duplex } from 'node:stream';
import WebSocket from 'ws';
import type { NodeConnector } from '../apiserver/node-connection.ts';

/** Opens a byte stream to `port` of pod `namespace/pod`. */
export type DialPod = (namespace: string, pod: string, port: number) => Promise<Duplex>;

export const AGENT_PORTFORWARD_PROTOCOL = 'berth.portforward.v1';

const asBuffer = (data: WebSocket.RawData): Buffer =>
  Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);

/** A Duplex over one agent port-forward WebSocket (already open). */
export function tunnelStream(ws: WebSocket): Duplex {
  let failed: Error | undefined;
  const stream = new Duplex({
    allowHalfOpen: true,
    read() {
      if (ws.isPaused) ws.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      if (ws.readyState !== WebSocket.OPEN) return cb(failed ?? new Error('the tunnel to the pod is closed'));
      ws.send(chunk, { binary: true }, (e) => cb(e ?? null));
    },
    final(cb) {
      if (ws.readyState === WebSocket.OPEN) ws.send('EOF', { binary: false });
      cb();
    },
    destroy(err, cb) {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000);
      cb(err);
    },
  });
  ws.on('message', (data, isBinary) => {
    const b = asBuffer(data);
    if (isBinary) {
      if (!stream.push(b)) ws.pause();
    } else if (b.toString('utf8') === 'EOF') stream.push(null);
    else {
      failed = new Error(b.toString('utf8'));
      stream.destroy(failed);
    }
  });
  ws.on('close', () => {
    if (failed) return;
    if (!stream.readableEnded) stream.push(null);
    if (!stream.writableFinished) stream.destroy();
  });
  ws.on('error', (e) => stream.destroy(e));
  return stream;
}

/** The real DialPod: through the API server's connection to the pod's node agent. */
export function agentDialer(nodes: NodeConnector): DialPod {
  return async (namespace, name, port) => {
    const pod = nodes.getPod(namespace, name);
    const uid = pod.metadata.uid ?? '';
    const ws = await nodes.webSocket(
      nodes.target(pod),
      `/portForward/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}?port=${port}` +
        (uid ? `&podUID=${encodeURIComponent(uid)}` : ''),
      AGENT_PORTFORWARD_PROTOCOL,
    );
    return tunnelStream(ws);
  };
}
