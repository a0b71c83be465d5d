import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { SpdyClientSession } from './spdy/client.ts';
import { SpdySession, type SpdyStream } from './spdy/session.ts';
import { bridgeRemoteCommand } from './remotecommand-bridge.ts';
import { holdMessages } from './inbox.ts';
import { Channel, channelMessage, closeChannelMessage, messageBuffer } from './ws-channels.ts';

const EXIT_3 = JSON.stringify({
  metadata: {},
  status: 'Failure',
  message: 'command terminated with non-zero exit code: exit code 3',
  reason: 'NonZeroExitCode',
  details: { causes: [{ reason: 'ExitCode', message: '3' }] },
});

/**
 * A streaming-server double: once error, stdin and stdout are open it echoes stdin upper-cased on
 * stdout; stdin's end finishes the command with exit code 3 (or, with `noStatus`, just drops the
 * connection).
 */
async function streamingServer(noStatus = false) {
  const server = createServer((sock) => {
    const session = new SpdySession(sock);
    const streams = new Map<string, SpdyStream>();
    session.on('stream', (s) => {
      s.on('error', () => undefined);
      streams.set(s.headers['streamtype'] ?? '', s);
      const [error, stdin, stdout] = ['error', 'stdin', 'stdout'].map((t) => streams.get(t));
      if (!error || !stdin || !stdout) return;
      error.resume();
      stdin.on('data', (b: Buffer) => stdout.write(b.toString().toUpperCase()));
      stdin.on('end', () => {
        if (noStatus) return session.close();
        error.end(EXIT_3);
        stdout.end(() => session.goAway());
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const dial = async (): Promise<SpdyClientSession> => {
    const sock = connect((server.address() as AddressInfo).port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    return new SpdyClientSession(sock);
  };
  return { dial, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** A WebSocket user bridged to the double; returns what arrived per channel and the close code. */
async function session(
  v5: boolean,
  send: (ws: WebSocket) => void,
  noStatus = false,
): Promise<{ out: string; status: string; code: number }> {
  const srv = await streamingServer(noStatus);
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  wss.on('connection', (user) => {
    const inbox = holdMessages(user);
    void srv
      .dial()
      .then((s) =>
        bridgeRemoteCommand(user, inbox, s, { stdin: true, stdout: true, stderr: false, tty: false }, v5),
      );
  });
  const ws = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  let out = '';
  let status = '';
  ws.on('message', (d: Buffer | ArrayBuffer | Buffer[]) => {
    const b = messageBuffer(d);
    if (b[0] === Channel.STDOUT) out += b.subarray(1).toString();
    if (b[0] === Channel.ERROR) status += b.subarray(1).toString();
  });
  await new Promise((r) => ws.once('open', r));
  const closed = new Promise<number>((r) => ws.once('close', r));
  send(ws);
  const timer = setTimeout(() => ws.close(4000), 3000);
  const code = await closed;
  clearTimeout(timer);
  wss.close();
  await srv.close();
  return { out, status, code };
}

test('v5: stdin reaches the command, its close channel is the EOF, the Status ends the session', async () => {
  const r = await session(true, (ws) => {
    ws.send(channelMessage(Channel.STDIN, 'abc'));
    ws.send(channelMessage(Channel.STDIN, 'def'));
    ws.send(closeChannelMessage(Channel.STDIN));
  });
  assert.equal(r.out, 'ABCDEF');
  assert.deepEqual(JSON.parse(r.status), JSON.parse(EXIT_3));
  assert.equal(r.code, 1000);
});

test('v4: [0xFF, 0] is not a close signal (the command keeps running until the client goes)', async () => {
  const r = await session(false, (ws) => {
    ws.send(channelMessage(Channel.STDIN, 'abc'));
    ws.send(closeChannelMessage(Channel.STDIN));
    setTimeout(() => ws.close(1000), 300);
  });
  assert.equal(r.out, 'ABC');
  assert.equal(r.status, '', 'no Status: the command did not end');
});

test('a streaming server that drops the connection without a Status gives a Failure', async () => {
  const r = await session(
    true,
    (ws) => {
      ws.send(channelMessage(Channel.STDIN, 'x'));
      ws.send(closeChannelMessage(Channel.STDIN));
    },
    true,
  );
  assert.equal(r.code, 1000);
  assert.match(JSON.parse(r.status).message, /closed the stream without a status/);
});
