/**
 * pods/portforward: SPDY (`portforward.k8s.io`), SPDY tunnelled in a WebSocket
 * (`SPDY/3.1+portforward.k8s.io`, kubectl 1.31+), and client-node's WebSocket channel framing
 * (`?ports=`, v4.channel.k8s.io). Each user session is ONE agent tunnel to the container runtime's
 * streaming server, dialled before the user's upgrade is accepted; its forwarded connections are
 * stream pairs on it (kubectl's SPDY spliced through, client-node's channels translated).
 */
import { errors } from '../../api/status.ts';
import type { NodeConnector } from '../node-connection.ts';
import { SpdyClientSession } from '../../streams/spdy/client.ts';
import {
  PORTFORWARD_SPDY_PROTOCOL,
  PORTFORWARD_TUNNEL_PROTOCOL,
  relayWebSocketPortForward,
  webSocketByteStream,
} from '../../streams/portforward.ts';
import { splice } from '../../streams/splice.ts';
import {
  acceptWebSocket,
  headerList,
  isSpdyUpgrade,
  isWebSocketUpgrade,
  switchToSpdy,
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
    const tunnel = (ports: number[] = []) => {
      const query = new URLSearchParams();
      for (const port of ports) query.append('port', String(port));
      if (uid) query.set('podUID', uid);
      return nodes.spdyTunnel(
        target,
        `/portForward/${encodeURIComponent(info.namespace)}/${encodeURIComponent(info.name)}?${query}`,
        [PORTFORWARD_SPDY_PROTOCOL],
      );
    };
    if (isSpdyUpgrade(req)) {
      const agent = await tunnel();
      if (socket.destroyed) return void agent.socket.destroy();
      switchToSpdy(socket, PORTFORWARD_SPDY_PROTOCOL);
      splice(socket, agent.socket, { headForB: head, bReads: agent.reads });
      return;
    }
    if (!isWebSocketUpgrade(req)) throw errors.badRequest('Upgrade request required');
    const offered = headerList(req, 'sec-websocket-protocol');
    if (offered.includes(PORTFORWARD_TUNNEL_PROTOCOL)) {
      const agent = await tunnel();
      const ws = await acceptWebSocket(req, socket, head, PORTFORWARD_TUNNEL_PROTOCOL).catch((e: unknown) => {
        agent.socket.destroy();
        throw e;
      });
      splice(webSocketByteStream(ws), agent.socket, { bReads: agent.reads });
      return;
    }
    const ports = parsePorts(q);
    const protocol = offered.find((o) => (WS_CHANNEL_PROTOCOLS as readonly string[]).includes(o));
    if (offered.length && !protocol)
      throw errors.badRequest(
        `unable to upgrade connection: unable to negotiate protocol: client supports [${offered.join(' ')}], server supports [${WS_CHANNEL_PROTOCOLS.join(' ')}]`,
      );
    const agent = await tunnel(ports);
    const session = new SpdyClientSession(agent.socket, agent.reads);
    const ws = await acceptWebSocket(req, socket, head, protocol ?? '').catch((e: unknown) => {
      session.close();
      throw e;
    });
    relayWebSocketPortForward(ws, ports, session);
  };
}
