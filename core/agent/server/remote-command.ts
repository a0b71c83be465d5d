/**
 * /exec and /attach as a WebSocket (v5.channel.k8s.io): the command's session on containerd's CRI
 * streaming server, bridged by core/streams/remotecommand-bridge.ts. (The API server reaches the same
 * session through the agent's SPDY tunnel instead: tunnel.ts.)
 */
import type WebSocket from 'ws';
import { dialSpdy, type SpdyClientSession } from '../../streams/spdy/client.ts';
import type { Inbox } from '../../streams/inbox.ts';
import {
  bridgeRemoteCommand as bridge,
  failureStatus,
  finishCommand,
  STREAMING_SERVER_PROTOCOL,
  type RemoteCommandOptions,
} from '../../streams/remotecommand-bridge.ts';

export type { RemoteCommandOptions };

/** Runs the bridge until the command ends or either side goes away. */
export async function bridgeRemoteCommand(
  ws: WebSocket,
  inbox: Inbox,
  url: string,
  opts: RemoteCommandOptions,
): Promise<void> {
  let session: SpdyClientSession;
  try {
    ({ session } = await dialSpdy(url, [STREAMING_SERVER_PROTOCOL]));
  } catch (e) {
    finishCommand(ws, failureStatus(`unable to upgrade streaming connection: ${(e as Error).message}`));
    return;
  }
  await bridge(ws, inbox, session, opts, true);
}
