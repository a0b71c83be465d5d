import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { BorrowedReads } from './borrowed-reads.ts';
import {
  decodeChunked,
  dialUpgrade,
  parseResponseHead,
  UpgradeRefused,
  upgradeRequestHead,
} from './upgrade-dial.ts';

/** A server that answers the first request it reads with `answer` (a function of the request text). */
async function dial(
  answer: (request: string, s: Socket) => void,
  timeoutMs?: number,
): Promise<{
  result: Promise<Awaited<ReturnType<typeof dialUpgrade>>>;
  reads: BorrowedReads;
  socket: Socket;
}> {
  const srv = createServer((s) => {
    let req = '';
    s.on('data', (d: Buffer) => {
      req += d.toString('latin1');
      if (req.includes('\r\n\r\n')) answer(req, s);
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  const reads = new BorrowedReads();
  const socket = connect({ port, host: '127.0.0.1', onread: reads.onread });
  reads.attach(socket);
  const head = upgradeRequestHead('POST', '/exec/x?command=ls', `127.0.0.1:${port}`, {
    Connection: 'Upgrade',
    Upgrade: 'SPDY/3.1',
    'X-Stream-Protocol-Version': ['v4.channel.k8s.io', 'v3.channel.k8s.io'],
  });
  const result = dialUpgrade(socket, reads, head, timeoutMs);
  void result.finally(() => srv.close()).catch(() => undefined);
  return { result, reads, socket };
}

test('the request head repeats multi-valued headers; a 101 resolves and the bytes after it are held for the next reader', async () => {
  let seen = '';
  const { result, reads, socket } = await dial((req, s) => {
    seen = req;
    // The head and the first frames in one write, as a streaming server may send them.
    s.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\nFRAMES',
    );
    setTimeout(() => s.end('MORE'), 30);
  });
  const head = await result;
  assert.equal(head.statusCode, 101);
  assert.deepEqual(head.headers.get('x-stream-protocol-version'), ['v4.channel.k8s.io']);
  assert.match(seen, /^POST \/exec\/x\?command=ls HTTP\/1\.1\r\nHost: 127\.0\.0\.1:\d+\r\n/);
  assert.equal(seen.match(/X-Stream-Protocol-Version: /g)?.length, 2);
  const got: string[] = [];
  reads.setSink((b) => (got.push(b.toString()), true));
  await new Promise<void>((r) => socket.once('end', r));
  assert.equal(got.join(''), 'FRAMESMORE');
  socket.destroy();
});

test('a refusal rejects with its status and body: Content-Length, chunked, or up to the close', async () => {
  const cases: [string, string][] = [
    // Content-Length counts: the two bytes after it are not part of the body.
    [
      'HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{"kind":"Status"}',
      '{"kind":"Status',
    ],
    [
      'HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nunable\r\n9;ext=1\r\n to exec!\r\n0\r\n\r\n',
      'unable to exec!',
    ],
    ['HTTP/1.0 500 Internal Server Error\r\n\r\nstreaming server gone', 'streaming server gone'],
  ];
  for (const [response, body] of cases) {
    const { result } = await dial((_req, s) => s.end(response));
    const e = await result.then(
      () => assert.fail('resolved'),
      (err: unknown) => err,
    );
    assert.ok(e instanceof UpgradeRefused, String(e));
    assert.equal(e.statusCode, Number(response.slice(9, 12)));
    assert.equal(e.body, body);
  }
});

test('a malformed answer, a close before any answer, and silence past the timeout reject with an Error', async () => {
  const malformed = await dial((_req, s) => s.end('SSH-2.0-OpenSSH\r\n\r\n'));
  await assert.rejects(malformed.result, /malformed HTTP status line/);
  const closed = await dial((_req, s) => s.destroy());
  await assert.rejects(closed.result, /closed before a response/);
  const silent = await dial(() => undefined, 200);
  await assert.rejects(silent.result, /no upgrade within 200 ms/);
  assert.ok(silent.socket.destroyed, 'the socket is closed after a failure');
});

test('parsing helpers: header names lower-cased, values kept in order; chunked bodies decoded only when complete', () => {
  const h = parseResponseHead('HTTP/1.1 101 Switching Protocols\r\nA: 1\r\na: 2\r\nUpgrade:SPDY/3.1');
  assert.equal(h.statusCode, 101);
  assert.deepEqual(h.headers.get('a'), ['1', '2']);
  assert.deepEqual(h.headers.get('upgrade'), ['SPDY/3.1']);
  assert.throws(() => parseResponseHead('HTTP/1.1 200 OK\r\nno colon here'), /malformed HTTP header line/);
  assert.equal(decodeChunked(Buffer.from('3\r\nabc\r\n')), undefined);
  assert.equal(decodeChunked(Buffer.from('3\r\nabc\r\n0\r\n\r\n'))?.toString(), 'abc');
  assert.throws(() => decodeChunked(Buffer.from('zz\r\n')), /malformed chunk size/);
});
