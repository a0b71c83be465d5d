/**
 * pods/portforward: SPDY (`portforward.k8s.io`), SPDY tunnelled in a WebSocket
 * (`SPDY/3.1+portforward.k8s.io`, kubectl 1.31+), and client-node's WebSocket channel framing
 * (`?ports=`, v4.channel.k8s.io). Each forwarded connection is one agent WebSocket.
 */
import { errors } from '../../api/status.ts';
import type { NodeConnector } from '../node-connection.ts';
import { SpdySession } from '../../streams/spdy/session.ts';
import {
  AGENT_PORTFORWARD_PROTOCOL,
  PORTFORWARD_SPDY_PROTOCOL,
  PORTFORWARD_TUNNEL_PROTOCOL,
  relaySpdyPortForward,
  relayWebSocketPortForward,
  webSocketByteStream,
  type DialPort,
} from '../../streams/portforward.ts';
import {
  acceptSpdy,
  acceptWebSocket,
  headerList,
  isSpdyUpgrade,
  isWebSocketUpgrade,
} from '../../streams/upgrade.ts';
import { V4_PROTOCOL } from '../../streams/ws-channels.ts';
import type { UpgradeHandler } from './pod-exec.ts';

/** client-node's framing: kubelet accepts "", v4.channel.k8s.io (base64 variants are not served here). */
const WS_CHANNEL_PROTOCOLS = [V4_PROTOCOL] as const;

function parsePorts(q: URLSearchParams): number[] {
  const raw = q.getAll('ports').flatMap((v) => v.split(','));
  if (!raw.length) throw errors.badRequest('query parameter "port" is required');
  return raw.map((v) => {
    const n = Number(v.trim());
    if (!/^\d+$/.test(v.trim()) || n < 1 || n > 65535)
      throw errors.badRequest(`unable to parse "${v}" as a port: invalid port`);
    return n;
  });
}

export function podPortForwardHandler(nodes: NodeConnector): UpgradeHandler {
  return async (req, socket, head, info, q) => {
    const p = nodes.getPod(info.namespace, info.name);
    const target = nodes.target(p);
    const uid = p.metadata.uid ?? '';
    const dial: DialPort = (port) =>
      nodes.webSocket(
        target,
        `/portForward/${encodeURIComponent(info.namespace)}/${encodeURIComponent(info.name)}?port=${port}` +
          (uid ? `&podUID=${encodeURIComponent(uid)}` : ''),
        AGENT_PORTFORWARD_PROTOCOL,
      );
    if (isSpdyUpgrade(req)) {
      relaySpdyPortForward(new SpdySession(acceptSpdy(socket, head, PORTFORWARD_SPDY_PROTOCOL)), dial);
      return;
    }
    if (!isWebSocketUpgrade(req)) throw errors.badRequest('Upgrade request required');
    const offered = headerList(req, 'sec-websocket-protocol');
    if (offered.includes(PORTFORWARD_TUNNEL_PROTOCOL)) {
      const ws = await acceptWebSocket(req, socket, head, PORTFORWARD_TUNNEL_PROTOCOL);
      relaySpdyPortForward(new SpdySession(webSocketByteStream(ws)), dial);
      return;
    }
    const ports = parsePorts(q);
    const protocol = offered.find((o) => (WS_CHANNEL_PROTOCOLS as readonly string[]).includes(o));
    if (offered.length && !protocol)
      throw errors.badRequest(
        `unable to upgrade connection: unable to negotiate protocol: client supports [${offered.join(' ')}], server supports [${WS_CHANNEL_PROTOCOLS.join(' ')}]`,
      );
    const ws = await acceptWebSocket(req, socket, head, protocol ?? '');
    relayWebSocketPortForward(ws, ports, dial);
  };
}
