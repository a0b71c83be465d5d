import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createHttpServer } from 'node:http';
import WebSocket, { WebSocketServer } from 'ws';
import { HeadroomPool } from './headroom-pool.ts';
import { freeSlabCount, giveSlab, isLentSlab, takeSlab } from './slab-pool.ts';
import { BorrowedFrameParser } from './spdy/borrowed-frame-parser.ts';
import { encodeControlFrame, encodeDataFrame, FLAG_FIN, FrameReader, FrameType } from './spdy/frames.ts';

test('frames written in place reach a WebSocket client as [channel, payload] messages, for every header size', async () => {
  // A ws server whose raw socket we keep: frames go straight to it, as the exec bridge sends them.
  const http = createHttpServer();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const raw = new Promise<{ socket: Duplex; ws: WebSocket }>((resolve) =>
    http.on('upgrade', (req, socket, head) =>
      wss.handleUpgrade(req, socket, head, (ws) => resolve({ socket, ws })),
    ),
  );
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}/`);
  const got: Buffer[] = [];
  client.on('message', (m: Buffer) => got.push(m));
  const { socket, ws } = await raw;

  const pool = new HeadroomPool();
  // 0, 1 and 124 → 2-byte header; 125 and 126 straddle it; 65_524 is the largest pooled payload
  // (4-byte header); 70_000 does not fit a slab (10-byte header).
  const sizes = [0, 1, 124, 125, 126, 65_535 - 11, 70_000];
  const sent = sizes.map((n) => randomBytes(n));
  for (const [i, data] of sent.entries()) {
    const view = pool.take(data.length);
    data.copy(view);
    const frame = pool.webSocketFrame(view, 1 + (i % 2));
    assert.ok(frame, `a frame for ${data.length} bytes`);
    socket.write(frame, () => pool.give(frame));
  }
  ws.send(Buffer.from([3, 0x7b, 0x7d])); // ws's own frames interleave with whole frames
  await new Promise<void>((r) => {
    const t = setInterval(() => got.length === sizes.length + 1 && (clearInterval(t), r()), 10);
  });
  for (const [i, data] of sent.entries())
    assert.deepEqual(got[i], Buffer.concat([Buffer.from([1 + (i % 2)]), data]), `message ${i}`);
  assert.deepEqual(got.at(-1), Buffer.from([3, 0x7b, 0x7d]));
  assert.equal(
    pool.webSocketFrame(Buffer.alloc(10), 1),
    undefined,
    'a foreign buffer is not framed in place',
  );
  client.close();
  ws.terminate();
  http.close();
});

test('slabs are reused only once given back, once each', () => {
  const a = takeSlab();
  assert.ok(isLentSlab(a));
  const before = freeSlabCount();
  giveSlab(a);
  giveSlab(a); // a second give is ignored: the slab would otherwise be lent twice
  assert.equal(freeSlabCount(), before + 1);
  assert.ok(!isLentSlab(a));
  const b = takeSlab();
  assert.equal(b, a, 'the given slab is lent again');
  const c = takeSlab();
  assert.notEqual(c, b, 'never the same slab to two holders');
  const free = freeSlabCount();
  giveSlab(new ArrayBuffer(64 * 1024)); // not ours: ignored
  assert.equal(freeSlabCount(), free);
  giveSlab(b);
  giveSlab(c);
});

test('the borrowed frame parser yields the frames FrameReader does, however the bytes are cut', () => {
  const stream = Buffer.concat([
    encodeControlFrame(FrameType.SYN_REPLY, 0, Buffer.from([0, 0, 0, 1, 9, 9])),
    encodeDataFrame(1, randomBytes(32 * 1024)),
    encodeDataFrame(3, Buffer.alloc(0), FLAG_FIN),
    encodeDataFrame(1, randomBytes(100_000)),
    encodeControlFrame(FrameType.PING, 0, Buffer.from([0, 0, 0, 7])),
  ]);
  const expected = new FrameReader().push(stream);
  const strip = (fs: typeof expected) =>
    fs.map((f) =>
      f.kind === 'data' ? { ...f, data: Buffer.from(f.data) } : { ...f, payload: Buffer.from(f.payload) },
    );
  for (const cut of [stream.length, 1, 7, 8, 9, 16_384]) {
    const parser = new BorrowedFrameParser(new HeadroomPool());
    const frames = [];
    const scratch = Buffer.alloc(cut);
    for (let off = 0; off < stream.length; off += cut) {
      // Borrowed: the parser must copy, since the caller reuses its buffer at once.
      const n = stream.copy(scratch, 0, off, off + cut);
      frames.push(...parser.push(scratch.subarray(0, n)));
      scratch.fill(0xee);
    }
    assert.deepEqual(strip(frames), strip(expected), `cut every ${cut} bytes`);
  }
  assert.throws(
    () => new BorrowedFrameParser(new HeadroomPool()).push(Buffer.from([0x80, 2, 0, 1, 0, 0, 0, 0])),
    /unsupported version 2/,
  );
});
