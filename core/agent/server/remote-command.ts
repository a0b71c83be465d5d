/**
 * /exec and /attach: the internal v5.channel.k8s.io WebSocket bridged to containerd's CRI streaming
 * server. containerd 1.6's server is the kubelet's streaming package: its WebSocket side (v4) cannot
 * carry a stdin EOF, so the agent speaks SPDY/3.1 to it (v4.channel.k8s.io, as client-go does), where
 * FIN on the stdin stream is the EOF. The server's error stream holds the command's Status (Success or
 * NonZeroExitCode with the ExitCode cause), which goes out on channel 3 before the close.
 */
import type WebSocket from 'ws';
import { dialSpdy, type SpdyClientSession, type SpdyClientStream } from '../../streams/spdy/client.ts';
import { Channel, channelMessage, parseChannelMessage } from '../../streams/ws-channels.ts';
import type { Inbox } from './inbox.ts';
import { pipeToWebSocket } from './ws-pipe.ts';
import { commandStatus, failureStatus } from './status.ts';

export interface RemoteCommandOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

const STREAM_PROTOCOL = 'v4.channel.k8s.io';
/** After the error stream ends, the server gets this long to close the connection. */
const OUTPUT_GRACE_MS = 2000;

/** Runs the bridge until the command ends or either side goes away. */
export async function bridgeRemoteCommand(
  ws: WebSocket,
  inbox: Inbox,
  url: string,
  opts: RemoteCommandOptions,
): Promise<void> {
  let session: SpdyClientSession;
  try {
    ({ session } = await dialSpdy(url, [STREAM_PROTOCOL]));
  } catch (e) {
    finish(ws, failureStatus(`unable to upgrade streaming connection: ${(e as Error).message}`));
    return;
  }
  const open = (type: string): SpdyClientStream => {
    const s = session.openStream({ streamtype: type });
    s.on('error', () => undefined);
    return s;
  };
  const error = open('error');
  const stdin = opts.stdin ? open('stdin') : undefined;
  const stdout = opts.stdout ? open('stdout') : undefined;
  const stderr = opts.stderr && !opts.tty ? open('stderr') : undefined;
  const resize = opts.tty ? open('resize') : undefined;

  const toUser = (channel: number, s: SpdyClientStream | undefined): Promise<void> =>
    s ? pipeToWebSocket(s, ws, (b) => channelMessage(channel, b)) : Promise.resolve();
  const outputDone = Promise.all([toUser(Channel.STDOUT, stdout), toUser(Channel.STDERR, stderr)]);

  inbox((data) => {
    const m = parseChannelMessage(data, true);
    if (!m) return;
    if (m.kind === 'close') {
      if (m.channel === Channel.STDIN && stdin && !stdin.writableEnded) stdin.end();
      return;
    }
    if (m.channel === Channel.STDIN && stdin && !stdin.writableEnded) stdin.write(m.data);
    else if (m.channel === Channel.RESIZE && resize && !resize.writableEnded) resize.write(m.data);
  });
  ws.on('close', () => session.close());

  const errorText = await new Promise<string>((resolve) => {
    const parts: Buffer[] = [];
    error.on('data', (b: Buffer) => parts.push(b));
    const done = (): void => resolve(Buffer.concat(parts).toString('utf8'));
    error.on('end', done);
    error.on('close', done);
  });
  // The server closes the connection after the status, which ends the output streams once read; a
  // server that does not is closed here after a grace period (received output is still delivered).
  const grace = setTimeout(() => session.close(), OUTPUT_GRACE_MS);
  await outputDone;
  clearTimeout(grace);
  // The streaming server always ends with a Status; none means the connection broke.
  finish(
    ws,
    errorText.trim()
      ? commandStatus(errorText)
      : failureStatus('the container runtime closed the stream without a status'),
  );
  session.close();
}

/** Status on channel 3, then close 1000. */
export function finish(ws: WebSocket, status: string): void {
  if (ws.readyState !== ws.OPEN) return;
  ws.send(channelMessage(Channel.ERROR, status));
  ws.close(1000);
}
