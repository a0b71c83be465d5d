/**
 * pods/exec (and, through podRemoteCommand, pods/attach): pre-checks as upstream, protocol choice
 * (WebSocket v5/v4 or SPDY/3.1 v4…v1), then the agent's SPDY tunnel to the container runtime's
 * streaming server (dialled before the user's upgrade is accepted, so its failures are plain HTTP
 * errors): spliced to a SPDY client, bridged to a WebSocket one.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { errors } from '../../api/status.ts';
import { boolParam, type RequestInfo } from '../request-info.ts';
import { pod, type NodeConnector } from '../node-connection.ts';
import { SpdyClientSession } from '../../streams/spdy/client.ts';
import { SPDY_EXEC_PROTOCOLS, type StreamOptions } from '../../streams/remotecommand.ts';
import { bridgeRemoteCommand, STREAMING_SERVER_PROTOCOL } from '../../streams/remotecommand-bridge.ts';
import type { Inbox } from '../../streams/inbox.ts';
import { splice } from '../../streams/splice.ts';
import {
  acceptWebSocket,
  headerList,
  isSpdyUpgrade,
  isWebSocketUpgrade,
  negotiate,
  switchToSpdy,
} from '../../streams/upgrade.ts';
import { messageBuffer, V4_PROTOCOL, V5_PROTOCOL } from '../../streams/ws-channels.ts';

/** A streaming subresource: called after authentication and authorization with the raw socket. */
export type UpgradeHandler = (
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  info: RequestInfo,
  q: URLSearchParams,
) => Promise<void>;

const WS_EXEC_PROTOCOLS = [V5_PROTOCOL, V4_PROTOCOL] as const;

export function streamOptions(q: URLSearchParams): StreamOptions {
  const tty = boolParam(q, 'tty');
  const opts = {
    stdin: boolParam(q, 'stdin'),
    stdout: boolParam(q, 'stdout'),
    stderr: boolParam(q, 'stderr') && !tty, // upstream bypasses stderr with a tty
    tty,
  };
  if (!opts.stdin && !opts.stdout && !opts.stderr)
    throw errors.badRequest('you must specify at least 1 of stdin, stdout, stderr');
  return opts;
}

function agentQuery(opts: StreamOptions, command: string[], podUID: string): string {
  const p = new URLSearchParams();
  for (const c of command) p.append('command', c);
  for (const k of ['stdin', 'stdout', 'stderr', 'tty'] as const) if (opts[k]) p.set(k, '1');
  if (podUID) p.set('podUID', podUID);
  return p.toString();
}

function unableToNegotiate(offered: string[], supported: readonly string[]): Error {
  return errors.badRequest(
    `unable to upgrade connection: unable to negotiate protocol: client supports [${offered.join(' ')}], server supports [${supported.join(' ')}]`,
  );
}

export function podRemoteCommand(nodes: NodeConnector, kind: 'exec' | 'attach'): UpgradeHandler {
  return async (req, socket, head, info, q) => {
    const p = nodes.getPod(info.namespace, info.name);
    const container = nodes.container(p, q.get('container'));
    const phase = pod(p).status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed')
      throw errors.badRequest(
        kind === 'exec'
          ? `cannot exec into a container in a completed pod; current phase is ${phase}`
          : `cannot attach to a container in a completed pod; current phase is ${phase}`,
      );
    const opts = streamOptions(q);
    const command = q.getAll('command');
    if (kind === 'exec' && command.length === 0)
      throw errors.badRequest('you must specify at least one command for the container');
    const target = nodes.target(p);

    const ws = isWebSocketUpgrade(req);
    if (!ws && !isSpdyUpgrade(req)) throw errors.badRequest('Upgrade request required');
    const offered = headerList(req, ws ? 'sec-websocket-protocol' : 'x-stream-protocol-version');
    const supported = ws ? WS_EXEC_PROTOCOLS : SPDY_EXEC_PROTOCOLS;
    const protocol = negotiate(offered, supported);
    if (!protocol) throw unableToNegotiate(offered, supported);

    const path =
      `/${kind}/${encodeURIComponent(info.namespace)}/${encodeURIComponent(info.name)}/${encodeURIComponent(container)}` +
      `?${agentQuery(opts, kind === 'exec' ? command : [], p.metadata.uid ?? '')}`;
    if (!ws) {
      // SPDY end to end, as upstream: kubectl's connection is spliced to the agent's tunnel to the
      // container runtime's streaming server, which speaks the protocol chosen here.
      const agent = await nodes.spdyTunnel(target, path, [protocol]);
      if (socket.destroyed) return void agent.socket.destroy();
      switchToSpdy(socket, agent.protocol || protocol);
      splice(socket, agent.socket, { headForB: head, bReads: agent.reads });
      return;
    }
    // WebSocket (kubectl 1.30+, client-node): translated here to SPDY towards the streaming server.
    const agent = await nodes.spdyTunnel(target, path, [STREAMING_SERVER_PROTOCOL]);
    const session = new SpdyClientSession(agent.socket, agent.reads);
    if (socket.destroyed) return session.close();
    const user = await acceptWebSocket(req, socket, head, protocol).catch((e: unknown) => {
      session.close();
      throw e;
    });
    const inbox: Inbox = (h) =>
      user.on('message', (d: Buffer | ArrayBuffer | Buffer[], bin: boolean) => h(messageBuffer(d), bin));
    void bridgeRemoteCommand(user, inbox, session, opts, protocol === V5_PROTOCOL, socket);
  };
}

export const podExecHandler = (nodes: NodeConnector): UpgradeHandler => podRemoteCommand(nodes, 'exec');
