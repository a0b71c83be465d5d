/**
 * exec/attach relays: the user's connection (WebSocket v5/v4, or SPDY/3.1 with the v4…v1 stream
 * protocols) on one side, the agent's internal v5.channel.k8s.io WebSocket on the other. The agent
 * connection is dialled before the user's upgrade is accepted, so its failures are plain HTTP errors.
 */
import WebSocket from 'ws';
import type { SpdySession, SpdyStream } from './spdy/session.ts';
import {
  Channel,
  channelMessage,
  closeChannelMessage,
  messageBuffer,
  parseChannelMessage,
  V4_PROTOCOL,
} from './ws-channels.ts';

export interface StreamOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** SPDY subprotocols served, best first (v5 over SPDY is not offered: v4 is what kubectl 1.27–1.33 accept). */
export const SPDY_EXEC_PROTOCOLS = [
  V4_PROTOCOL,
  'v3.channel.k8s.io',
  'v2.channel.k8s.io',
  'channel.k8s.io',
] as const;

/** Agent writes beyond this are held back by pausing the user's side. */
const HIGH_WATER = 4 * 1024 * 1024;

/** A Failure status for when the agent goes away without reporting one. */
export function failureStatus(message: string): Buffer {
  return Buffer.from(
    JSON.stringify({ metadata: {}, status: 'Failure', message, reason: 'InternalError', code: 500 }),
  );
}

/** Sends to the agent, pausing `source` while the agent's send buffer is full. */
function sendToAgent(agent: WebSocket, msg: Buffer, source?: { pause(): unknown; resume(): unknown }): void {
  if (agent.readyState !== WebSocket.OPEN) return;
  agent.send(msg, { binary: true }, () => {
    if (source && agent.bufferedAmount < HIGH_WATER / 4) source.resume();
  });
  if (source && agent.bufferedAmount > HIGH_WATER) source.pause();
}

/** User WebSocket (v5 or v4) ↔ agent. */
export function relayWebSocketExec(
  user: WebSocket,
  v5: boolean,
  opts: StreamOptions,
  agent: WebSocket,
): void {
  let statusSent = false;
  user.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
    const m = parseChannelMessage(messageBuffer(data), v5);
    if (!m) return;
    if (m.kind === 'close') {
      if (m.channel === Channel.STDIN) sendToAgent(agent, closeChannelMessage(Channel.STDIN));
    } else if (m.channel === Channel.STDIN || m.channel === Channel.RESIZE) {
      sendToAgent(agent, channelMessage(m.channel, m.data), user);
    }
  });
  agent.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
    const raw = messageBuffer(data);
    const m = parseChannelMessage(raw, true);
    if (!m || user.readyState !== WebSocket.OPEN) return;
    if (m.kind === 'close') {
      if (v5 && m.channel !== Channel.STDIN) user.send(raw);
      return;
    }
    if (m.channel === Channel.STDERR && opts.tty) return;
    if (m.channel === Channel.ERROR) statusSent = true;
    if (m.channel === Channel.STDOUT || m.channel === Channel.STDERR || m.channel === Channel.ERROR) {
      user.send(raw, { binary: true });
      if (user.bufferedAmount > HIGH_WATER) {
        agent.pause();
        const check = setInterval(() => {
          if (user.readyState !== WebSocket.OPEN || user.bufferedAmount < HIGH_WATER / 4) {
            clearInterval(check);
            agent.resume();
          }
        }, 10);
      }
    }
  });
  agent.on('close', (code, reason) => {
    if (user.readyState === WebSocket.OPEN) {
      if (!statusSent && code !== 1000)
        user.send(
          channelMessage(
            Channel.ERROR,
            failureStatus(`node agent closed the stream: ${code} ${reason.toString()}`),
          ),
        );
      user.close(1000);
    }
  });
  user.on('close', () => agent.close(1000));
}

/** The stream types an exec/attach SPDY client opens for these options and protocol version. */
export function expectedSpdyStreams(opts: StreamOptions, protocol: string): string[] {
  const types = ['error'];
  if (opts.stdin) types.push('stdin');
  if (opts.stdout) types.push('stdout');
  if (opts.stderr && !opts.tty) types.push('stderr');
  if (opts.tty && protocol !== 'channel.k8s.io' && protocol !== 'v2.channel.k8s.io') types.push('resize');
  return types;
}

/** How long the client gets to open its streams (client-go creates them right after the upgrade). */
const STREAM_WAIT_MS = 30_000;

/** User SPDY session ↔ agent. Protocol v4 carries Status JSON on the error stream, v1–v3 plain text. */
export function relaySpdyExec(
  session: SpdySession,
  protocol: string,
  opts: StreamOptions,
  agent: WebSocket,
): void {
  const expected = expectedSpdyStreams(opts, protocol);
  const streams = new Map<string, SpdyStream>();
  const early: Buffer[] = [];
  let started = false;
  let statusWritten = false;

  const timer = setTimeout(() => {
    agent.close(1000);
    session.close();
  }, STREAM_WAIT_MS);
  timer.unref();

  const finish = (): void => {
    const ends = [...streams.values()].filter((s) => !s.writableEnded);
    let left = ends.length;
    if (!left) return session.goAway();
    for (const s of ends) s.end(() => --left === 0 && session.goAway());
  };

  const writeStatus = (json: Buffer): void => {
    statusWritten = true;
    const err = streams.get('error');
    if (!err) return;
    if (protocol === V4_PROTOCOL) {
      err.write(json);
      return;
    }
    try {
      const st = JSON.parse(json.toString('utf8')) as { status?: string; message?: string };
      if (st.status !== 'Success') err.write(st.message ?? 'error executing command');
    } catch {
      err.write(json);
    }
  };

  const fromAgent = (raw: Buffer): void => {
    const m = parseChannelMessage(raw, true);
    if (!m || m.kind === 'close') return;
    const target =
      m.channel === Channel.STDOUT
        ? streams.get('stdout')
        : m.channel === Channel.STDERR
          ? streams.get('stderr')
          : undefined;
    if (m.channel === Channel.ERROR) return writeStatus(m.data);
    if (target && !target.writableEnded && !target.write(m.data)) {
      agent.pause();
      target.once('drain', () => agent.resume());
    }
  };

  const start = (): void => {
    started = true;
    clearTimeout(timer);
    for (const raw of early.splice(0)) fromAgent(raw);
    if (agentClosed) onAgentClose();
  };

  let agentClosed = false;
  let closeInfo = '';
  const onAgentClose = (): void => {
    if (!statusWritten && closeInfo) writeStatus(failureStatus(`node agent closed the stream: ${closeInfo}`));
    finish();
  };

  agent.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
    const raw = messageBuffer(data);
    if (started) fromAgent(raw);
    else early.push(raw);
  });
  agent.on('close', (code, reason) => {
    agentClosed = true;
    if (code !== 1000) closeInfo = `${code} ${reason.toString()}`;
    if (started) onAgentClose();
  });
  session.on('close', () => {
    clearTimeout(timer);
    agent.close(1000);
  });

  session.on('stream', (s) => {
    const type = s.headers['streamtype'] ?? '';
    streams.set(type, s);
    s.on('error', () => undefined);
    if (type === 'stdin') {
      s.on('data', (d: Buffer) => sendToAgent(agent, channelMessage(Channel.STDIN, d), s));
      s.on('end', () => sendToAgent(agent, closeChannelMessage(Channel.STDIN)));
    } else if (type === 'resize') {
      let pending = '';
      s.on('data', (d: Buffer) => {
        pending += d.toString('utf8');
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl).trim();
          pending = pending.slice(nl + 1);
          if (line) sendToAgent(agent, channelMessage(Channel.RESIZE, line));
        }
      });
    } else {
      s.resume(); // the client sends nothing on the others (it FINs them)
    }
    if (!started && expected.every((t) => streams.has(t))) start();
  });
}
