import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import zlib from 'node:zlib';
import { SPDY3_DICTIONARY } from './dictionary.ts';
import {
  encodeControlFrame,
  encodeDataFrame,
  encodeGoaway,
  encodePing,
  encodeRstStream,
  encodeSynStream,
  FLAG_FIN,
  type Frame,
  FrameReader,
  FrameType,
  parseStreamHeaders,
  parseTwoWords,
} from './frames.ts';
import {
  decodeHeaderBlock,
  encodeHeaderBlock,
  HeaderCompressor,
  HeaderDecompressor,
} from './header-codec.ts';
import { SpdySession, type SpdyStream } from './session.ts';

test('the SPDY/3 dictionary is 1423 bytes with the Adler-32 zlib streams name (0xe3c6a7c2)', () => {
  assert.equal(SPDY3_DICTIONARY.length, 1423);
  const z = zlib.deflateSync(Buffer.from('x'), { dictionary: SPDY3_DICTIONARY });
  assert.equal(z.subarray(2, 6).toString('hex'), 'e3c6a7c2');
  assert.equal(SPDY3_DICTIONARY.subarray(0, 11).toString('latin1'), '\0\0\0\x07options');
  assert.ok(SPDY3_DICTIONARY.toString('latin1').endsWith(',*,enq=0.'));
});

test('header blocks round-trip through per-direction zlib contexts, block after block', () => {
  const c = new HeaderCompressor();
  const d = new HeaderDecompressor();
  for (let i = 0; i < 50; i++) {
    const h = { streamtype: i % 2 ? 'data' : 'error', port: String(8000 + i), requestid: String(i) };
    assert.deepEqual(d.decompress(c.compress(h)), h);
  }
  c.close();
  d.close();
  assert.deepEqual(decodeHeaderBlock(encodeHeaderBlock({ A: 'x', b: 'y\0z' })), { a: 'x', b: 'y' });
  assert.throws(() => decodeHeaderBlock(Buffer.from([0, 0, 0, 1, 0, 0, 0, 9])), /truncated/);
});

test('frames round-trip, split at every byte boundary', () => {
  const wire = Buffer.concat([
    encodeSynStream(1, Buffer.from('hdr'), FLAG_FIN),
    encodeDataFrame(1, Buffer.from('hello')),
    encodeDataFrame(3, Buffer.alloc(0), FLAG_FIN),
    encodeRstStream(5, 5),
    encodePing(7),
    encodeGoaway(9),
  ]);
  for (let cut = 0; cut <= wire.length; cut++) {
    const r = new FrameReader();
    const frames: Frame[] = [...r.push(wire.subarray(0, cut)), ...r.push(wire.subarray(cut))];
    assert.equal(frames.length, 6);
    assert.deepEqual(frames[1], { kind: 'data', streamId: 1, flags: 0, data: Buffer.from('hello') });
    assert.deepEqual(frames[2], { kind: 'data', streamId: 3, flags: FLAG_FIN, data: Buffer.alloc(0) });
    const syn = frames[0]!;
    assert.ok(syn.kind === 'control' && syn.type === FrameType.SYN_STREAM && syn.flags === FLAG_FIN);
    const rst = frames[3]!;
    assert.ok(rst.kind === 'control' && rst.type === FrameType.RST_STREAM);
    assert.deepEqual(parseTwoWords(rst.payload), [5, 5]);
  }
  const bytewise = new FrameReader();
  const one: Frame[] = [];
  for (const byte of wire) one.push(...bytewise.push(Buffer.from([byte])));
  assert.equal(one.length, 6);
  assert.deepEqual(one[1], { kind: 'data', streamId: 1, flags: 0, data: Buffer.from('hello') });
  assert.throws(() => new FrameReader().push(Buffer.from([0x80, 0x02, 0, 1, 0, 0, 0, 0])), /version 2/);
});

/** A client for the session under test: the other end of an in-memory duplex pair. */
function pair(): { server: Duplex; client: Duplex } {
  const end = (peer: () => Duplex) =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        peer().push(chunk);
        cb();
      },
      final(cb) {
        peer().push(null);
        cb();
      },
    });
  const server: Duplex = end(() => client);
  const client: Duplex = end(() => server);
  return { server, client };
}

test('session: SYN_REPLY for every stream, PING echo, no flow-control stall, FIN both ways, GOAWAY', async () => {
  const { server, client } = pair();
  const session = new SpdySession(server);
  const streams: SpdyStream[] = [];
  session.on('stream', (s) => {
    streams.push(s);
    if (s.headers['streamtype'] === 'stdout') s.end(Buffer.alloc(1024 * 1024, 7)); // far beyond a 64 KiB window
  });
  const out = new HeaderCompressor();
  const inflate = new HeaderDecompressor();
  const reader = new FrameReader();
  const got: Frame[] = [];
  client.on('data', (d: Buffer) => got.push(...reader.push(d)));
  client.write(encodeSynStream(1, out.compress({ streamtype: 'error' })));
  client.write(encodeSynStream(3, out.compress({ streamtype: 'stdout' })));
  client.write(encodeControlFrame(FrameType.WINDOW_UPDATE, 0, Buffer.alloc(8)));
  client.write(encodePing(11));
  client.write(encodeDataFrame(1, Buffer.from('abc'), FLAG_FIN));
  const deadline = Date.now() + 5000;
  const stdoutBytes = () =>
    got
      .filter((f) => f.kind === 'data' && f.streamId === 3)
      .reduce((n, f) => n + (f.kind === 'data' ? f.data.length : 0), 0);
  while (stdoutBytes() < 1024 * 1024 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const replies = got.filter((f) => f.kind === 'control' && f.type === FrameType.SYN_REPLY);
  assert.deepEqual(
    replies.map((f) => (f.kind === 'control' ? parseStreamHeaders(f.payload).streamId : 0)),
    [1, 3],
  );
  for (const f of replies)
    if (f.kind === 'control')
      assert.deepEqual(inflate.decompress(parseStreamHeaders(f.payload).headerBlock), {});
  assert.ok(
    got.some((f) => f.kind === 'control' && f.type === FrameType.PING && f.payload.readUInt32BE(0) === 11),
  );
  assert.equal(stdoutBytes(), 1024 * 1024);
  const fin = got.filter((f) => f.kind === 'data' && f.streamId === 3 && f.flags & FLAG_FIN);
  assert.equal(fin.length, 1);
  const errStream = streams[0]!;
  const chunks: Buffer[] = [];
  for await (const ch of errStream) chunks.push(ch as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), 'abc');
  client.write(encodeGoaway(3));
  const goaway = () => got.some((f) => f.kind === 'control' && f.type === FrameType.GOAWAY);
  while (!goaway() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.ok(goaway(), 'the server answers GOAWAY with GOAWAY');
  const closed = new Promise<void>((r) => session.once('close', () => r()));
  client.end();
  await closed;
  assert.ok(session.isClosed);
  out.close();
  inflate.close();
});
