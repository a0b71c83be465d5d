import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { BorrowedReads } from './borrowed-reads.ts';
import { splice } from './splice.ts';
import { socketPair } from './testing/socket-pair.ts';

/** A loopback TCP connection whose client end reads through BorrowedReads. */
async function borrowedPair(): Promise<{ client: Socket; reads: BorrowedReads; server: Socket }> {
  const reads = new BorrowedReads();
  const { a, b } = await socketPair({ onread: reads.onread });
  reads.attach(a);
  return { client: a, reads, server: b };
}

const plainPair = (): Promise<{ a: Socket; b: Socket }> => socketPair();

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

test('bytes read before a sink is set are held, then delivered first; a sink returning false pauses', async () => {
  const { client, reads, server } = await borrowedPair();
  server.write('early ');
  await new Promise((r) => setTimeout(r, 50));
  reads.unshift(Buffer.from('unshifted '));
  const got: string[] = [];
  let accept = false;
  reads.setSink((b) => {
    got.push(b.toString());
    return accept;
  });
  assert.equal(got.join(''), 'unshifted early ');
  assert.ok(client.isPaused(), 'the socket pauses when the sink refuses more');
  server.write('later');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(got.join(''), 'unshifted early ', 'nothing is read while paused');
  accept = true;
  reads.resume();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(got.join(''), 'unshifted early later');
  client.destroy();
  server.destroy();
});

test('splice with borrowed reads: 8 MiB through a slow reader arrive intact, in order, and the end travels', async () => {
  // source ⇄ [borrowed client | outer.a] ⇄ outer.b (the slow reader)
  const { client, reads, server: source } = await borrowedPair();
  const outer = await plainPair();
  const s = splice(outer.a, client, { headForA: Buffer.from('head:'), bReads: reads });
  const payload = randomBytes(8 * 1024 * 1024);
  source.end(payload);
  // Read slowly: the splice must stop reading the source (bounded queue) and resume.
  const parts: Buffer[] = [];
  outer.b.pause();
  let queuedMax = 0;
  const ended = new Promise<void>((r) => outer.b.once('end', r));
  while (outer.b.readableEnded === false) {
    await new Promise((r) => setTimeout(r, 5));
    queuedMax = Math.max(queuedMax, outer.a.writableLength);
    for (let c = outer.b.read() as Buffer | null; c; c = outer.b.read() as Buffer | null) parts.push(c);
    if (parts.reduce((n, p) => n + p.length, 0) >= payload.length + 5) break;
  }
  outer.b.resume();
  outer.b.on('data', (c: Buffer) => parts.push(c));
  await ended;
  const got = Buffer.concat(parts);
  assert.equal(got.subarray(0, 5).toString(), 'head:');
  assert.equal(sha(got.subarray(5)), sha(payload));
  assert.ok(queuedMax <= 2 * 1024 * 1024, `at most about 1 MiB queued (saw ${queuedMax})`);
  outer.b.end();
  await s.closed;
});

test('splice with borrowed reads carries the other direction and closes both sides when one closes', async () => {
  const { client, reads, server: source } = await borrowedPair();
  const outer = await plainPair();
  const s = splice(outer.a, client, { bReads: reads });
  const toSource = new Promise<string>((resolve) => {
    let text = '';
    source.on('data', (c: Buffer) => (text += c.toString()));
    source.on('end', () => resolve(text));
  });
  outer.b.end('upstream bytes');
  assert.equal(await toSource, 'upstream bytes');
  source.destroy();
  await s.closed;
  assert.ok(outer.a.destroyed && client.destroyed);
  outer.b.destroy();
});
