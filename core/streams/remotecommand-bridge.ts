/**
 * A remote command on a kubelet-style streaming server (containerd's CRI streaming server, reached over
 * SPDY/3.1 with v4.channel.k8s.io) bridged to a WebSocket with channel framing (v5 or v4). Used by the
 * API server for kubectl 1.30+ and client-node (through the agent's tunnel) and by the agent's own
 * /exec WebSocket. SPDY is spoken to the server because only SPDY can signal stdin EOF there (FIN on
 * the stdin stream); the server's error stream holds the command's Status (Success, or NonZeroExitCode
 * with the ExitCode cause), which goes out on channel 3 before the close.
 */
import type { Writable } from 'node:stream';
import type WebSocket from 'ws';
import type { SpdyClientSession, SpdyClientStream } from './spdy/client.ts';
import { Channel, channelMessage, parseChannelMessage } from './ws-channels.ts';
import type { Inbox } from './inbox.ts';
import { pipeToWebSocket } from './ws-pipe.ts';

export interface RemoteCommandOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** The protocol spoken to the streaming server. */
export const STREAMING_SERVER_PROTOCOL = 'v4.channel.k8s.io';

/** After the error stream ends, the server gets this long to close the connection. */
const OUTPUT_GRACE_MS = 2000;

export const SUCCESS_STATUS = JSON.stringify({ metadata: {}, status: 'Success' });

export function failureStatus(message: string): string {
  return JSON.stringify({ metadata: {}, status: 'Failure', message });
}

/**
 * Normalizes what a kubelet-style streaming server wrote on its v4 error stream (a Status JSON: Success,
 * NonZeroExitCode with an ExitCode cause, or another Failure) into the channel-3 Status; empty = Success.
 */
export function commandStatus(errorStreamText: string): string {
  const text = errorStreamText.trim();
  if (!text) return SUCCESS_STATUS;
  try {
    const s = JSON.parse(text) as { status?: unknown };
    if (s && typeof s === 'object' && (s.status === 'Success' || s.status === 'Failure'))
      return JSON.stringify(s);
  } catch {
    /* plain text (older protocols): a failure message */
  }
  return failureStatus(text);
}

/** Status on channel 3, then close 1000. */
export function finishCommand(ws: WebSocket, status: string): void {
  if (ws.readyState !== ws.OPEN) return;
  ws.send(channelMessage(Channel.ERROR, status));
  ws.close(1000);
}

/**
 * Runs the bridge until the command ends or either side goes away. `v5` lets [0xFF, 0] close stdin;
 * a v4 client cannot end stdin (its closing ends everything). `directSocket`, the socket under `ws`,
 * takes output frames built in place (see DirectFrames).
 */
export async function bridgeRemoteCommand(
  ws: WebSocket,
  inbox: Inbox,
  session: SpdyClientSession,
  opts: RemoteCommandOptions,
  v5: boolean,
  directSocket?: Writable,
): Promise<void> {
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
    s
      ? pipeToWebSocket(
          s,
          ws,
          (b) => channelMessage(channel, b),
          // Payloads received into the session's pool become whole frames in place (no copy).
          directSocket && {
            socket: directSocket,
            frame: (b) => session.pool.webSocketFrame(b, channel),
            written: (f) => session.pool.give(f),
          },
        )
      : Promise.resolve();
  const outputDone = Promise.all([toUser(Channel.STDOUT, stdout), toUser(Channel.STDERR, stderr)]);

  inbox((data) => {
    const m = parseChannelMessage(data, v5);
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
  finishCommand(
    ws,
    errorText.trim()
      ? commandStatus(errorText)
      : failureStatus('the container runtime closed the stream without a status'),
  );
  session.close();
}
