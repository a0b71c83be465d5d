/**
 * pods/exec (and, through podRemoteCommand, pods/attach): pre-checks as upstream, protocol choice
 * (WebSocket v5/v4 or SPDY/3.1 v4…v1), the agent's v5 WebSocket dialled first, then the relay.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { errors } from '../../api/status.ts';
import { boolParam, type RequestInfo } from '../request-info.ts';
import { pod, type NodeConnector } from '../node-connection.ts';
import { SpdySession } from '../../streams/spdy/session.ts';
import {
  relaySpdyExec,
  relayWebSocketExec,
  SPDY_EXEC_PROTOCOLS,
  type StreamOptions,
} from '../../streams/remotecommand.ts';
import {
  acceptSpdy,
  acceptWebSocket,
  headerList,
  isSpdyUpgrade,
  isWebSocketUpgrade,
  negotiate,
} from '../../streams/upgrade.ts';
import { V4_PROTOCOL, V5_PROTOCOL } from '../../streams/ws-channels.ts';

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
    const agent = await nodes.webSocket(target, path, V5_PROTOCOL);
    if (socket.destroyed) {
      agent.close(1000);
      return;
    }
    if (ws) {
      const user = await acceptWebSocket(req, socket, head, protocol).catch((e: unknown) => {
        agent.close(1000);
        throw e;
      });
      relayWebSocketExec(user, protocol === V5_PROTOCOL, opts, agent);
    } else {
      relaySpdyExec(new SpdySession(acceptSpdy(socket, head, protocol)), protocol, opts, agent);
    }
  };
}

export const podExecHandler = (nodes: NodeConnector): UpgradeHandler => podRemoteCommand(nodes, 'exec');
