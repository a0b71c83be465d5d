import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { SpdyClientSession } from './spdy/client.ts';
import { SpdySession } from './spdy/session.ts';
import { onForwardPairs } from './testing/forward-pairs.ts';
import { openForwardedPair, relayWebSocketPortForward } from './portforward.ts';
import { Channel, channelMessage, messageBuffer } from './ws-channels.ts';

/**
 * A streaming-server double on loopback: every SPDY connection is recorded; each error/data pair
 * (joined by requestid) answers per port: 80 echoes each chunk as "<requestid>:<chunk>" and ends
 * when the client's side ends or it receives "bye"; 81 is refused on the error stream.
 */
async function streamingServer() {
  const connections: SpdySession[] = [];
  const pairs: { requestid: string; port: string }[] = [];
  const server = createServer((sock) => {
    const session = new SpdySession(sock);
    connections.push(session);
    onForwardPairs(session, (error, data, id) => {
      pairs.push({ requestid: id, port: data.headers['port'] ?? '' });
      if (data.headers['port'] === '81') {
        error.end(`connect: connection refused (port 81, request ${id})`);
        data.end();
        return;
      }
      data.on('data', (b: Buffer) => {
        if (b.toString() === 'bye') return finish();
        data.write(`${id}:${b.toString()}`);
      });
      const finish = (): void => {
        if (!data.writableEnded) data.end();
        if (!error.writableEnded) error.end();
      };
      data.on('end', finish);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const dial = async (): Promise<SpdyClientSession> => {
    const sock: Socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    return new SpdyClientSession(sock);
  };
  return { connections, pairs, dial, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const readAll = (s: NodeJS.ReadableStream): Promise<string> =>
  new Promise((resolve) => {
    let text = '';
    s.on('data', (b: Buffer) => (text += b.toString()));
    s.on('end', () => resolve(text));
  });

test('many forwarded connections share ONE streaming-server connection, one stream pair each', async () => {
  const srv = await streamingServer();
  const session = await srv.dial();
  const answers = await Promise.all(
    Array.from({ length: 20 }, async (_, i) => {
      const pair = openForwardedPair(session, 80, i, () => undefined);
      const body = readAll(pair.data);
      pair.data.end(`hello-${i}`);
      await pair.done;
      return body;
    }),
  );
  assert.deepEqual(
    answers,
    Array.from({ length: 20 }, (_, i) => `${i}:hello-${i}`),
  );
  assert.equal(srv.connections.length, 1, 'one connection for all forwarded connections');
  assert.deepEqual(
    srv.pairs.map((p) => p.requestid).sort((a, b) => Number(a) - Number(b)),
    Array.from({ length: 20 }, (_, i) => String(i)),
  );
  let why = '';
  const refused = openForwardedPair(session, 81, 99, (b) => (why += b.toString()));
  refused.data.resume();
  await refused.done;
  assert.match(why, /connection refused \(port 81, request 99\)/);
  session.close();
  await srv.close();
});

test("client-node's channels: several ports on one session, port prefixes, refusal on the error channel", async () => {
  const srv = await streamingServer();
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  wss.on('connection', (user) => {
    void srv.dial().then((session) => relayWebSocketPortForward(user, [80, 81, 80], session));
  });
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  const byChannel = new Map<number, Buffer[]>();
  client.on('message', (d: Buffer | ArrayBuffer | Buffer[]) => {
    const b = messageBuffer(d);
    byChannel.set(b[0]!, [...(byChannel.get(b[0]!) ?? []), b.subarray(1)]);
  });
  await new Promise((r) => client.once('open', r));
  const text = (ch: number): string => Buffer.concat(byChannel.get(ch) ?? []).toString('latin1');
  const closed = new Promise<number>((resolve) => client.once('close', resolve));
  client.send(channelMessage(Channel.STDIN, 'abc')); // channel 0 = data of ports[0]
  client.send(channelMessage(4, 'xyz')); // channel 4 = data of ports[2]
  const deadline = Date.now() + 5000;
  while (!(text(0).endsWith('0:abc') && text(4).endsWith('2:xyz')) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 10));
  // Every port's pod side ending (81 at once, the others on "bye") ends the WebSocket from the server.
  client.send(channelMessage(0, 'bye'));
  client.send(channelMessage(4, 'bye'));
  assert.equal(await closed, 1000);
  const prefix = (port: number): string => Buffer.from([port & 0xff, port >> 8]).toString('latin1');
  for (const [ch, port] of [
    [0, 80],
    [1, 80],
    [2, 81],
    [3, 81],
    [4, 80],
    [5, 80],
  ] as const)
    assert.ok(text(ch).startsWith(prefix(port)), `channel ${ch} opens with port ${port}`);
  assert.equal(text(0), `${prefix(80)}0:abc`);
  assert.equal(text(4), `${prefix(80)}2:xyz`);
  assert.match(text(3), /connection refused \(port 81, request 1\)/);
  assert.equal(srv.connections.length, 1, 'the three ports share one streaming-server connection');
  assert.deepEqual(srv.pairs.map((p) => `${p.requestid}/${p.port}`).sort(), ['0/80', '1/81', '2/80']);
  wss.close();
  await srv.close();
});
