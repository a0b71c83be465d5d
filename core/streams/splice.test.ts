import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { splice } from './splice.ts';
import { socketPair } from './testing/socket-pair.ts';

/** Two pairs spliced in the middle: outer1 ⇄ [s1 | s2] ⇄ outer2. */
async function tunnel(headForB?: Buffer, headForA?: Buffer) {
  const p1 = await socketPair();
  const p2 = await socketPair();
  const s = splice(p1.b, p2.a, { headForB, headForA });
  return { left: p1.a, right: p2.b, inner: [p1.b, p2.a] as const, s };
}

const readAll = (s: Socket): Promise<Buffer> =>
  new Promise((resolve) => {
    const parts: Buffer[] = [];
    s.on('data', (b: Buffer) => parts.push(b));
    s.on('end', () => resolve(Buffer.concat(parts)));
  });

test('bytes pass both ways unchanged, heads first; an end travels through', async () => {
  const { left, right, s } = await tunnel(Buffer.from('head-for-b:'), Buffer.from('head-for-a:'));
  const big = randomBytes(3 * 1024 * 1024);
  const gotRight = readAll(right);
  const gotLeft = readAll(left);
  left.end(big);
  right.end('reply');
  assert.deepEqual(await gotRight, Buffer.concat([Buffer.from('head-for-b:'), big]));
  assert.equal((await gotLeft).toString(), 'head-for-a:reply');
  await s.closed;
});

test('one side closing closes the other after its pending bytes are flushed', async () => {
  const { left, right, inner, s } = await tunnel();
  const gotLeft = readAll(left);
  right.write('last words');
  right.destroy(); // abrupt, but what was written before still reaches the left side
  assert.equal((await gotLeft).toString(), 'last words');
  await s.closed;
  assert.ok(inner.every((x) => x.destroyed));
  left.destroy();
});

test('an error on one side destroys both at once', async () => {
  const { left, inner, s } = await tunnel();
  left.on('error', () => undefined);
  inner[0].emit('error', new Error('boom'));
  await s.closed;
  assert.ok(inner.every((x) => x.destroyed));
  await new Promise((r) => (left.destroyed ? r(undefined) : left.once('close', r)));
});

test('a side already destroyed destroys the other', async () => {
  const p1 = await socketPair();
  const p2 = await socketPair();
  p1.b.destroy();
  const s = splice(p1.b, p2.a);
  await s.closed;
  assert.ok(p2.a.destroyed);
  p1.a.destroy();
  p2.b.destroy();
});

test('a slow reader holds the other side back: about a MiB is queued, not everything', async () => {
  const { left, right, inner, s } = await tunnel();
  right.pause();
  const total = 48 * 1024 * 1024;
  const chunk = Buffer.alloc(64 * 1024, 7);
  let sent = 0;
  const fill = (): void => {
    while (sent < total) {
      sent += chunk.length;
      if (!left.write(chunk)) return void left.once('drain', fill);
    }
    left.end();
  };
  fill();
  await new Promise((r) => setTimeout(r, 500));
  assert.ok(inner[0].isPaused(), 'the reading side is paused');
  assert.ok(inner[1].writableLength <= 1024 * 1024 + chunk.length, `queued ${inner[1].writableLength}`);
  let got = 0;
  right.on('data', (b: Buffer) => (got += b.length));
  right.resume();
  await new Promise((r) => right.once('end', r));
  assert.equal(got, total);
  right.end();
  await s.closed;
});
