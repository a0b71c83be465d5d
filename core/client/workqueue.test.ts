import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BucketRateLimiter,
  ExponentialRateLimiter,
  MaxOfRateLimiter,
  runWorkers,
  WorkQueue,
} from './workqueue.ts';

const noLimit = new ExponentialRateLimiter(1, 10);

test('workqueue de-duplicates queued keys', async () => {
  const q = new WorkQueue(noLimit);
  q.add('a');
  q.add('b');
  q.add('a');
  assert.equal(q.len(), 2);
  assert.equal(await q.get(), 'a');
  assert.equal(await q.get(), 'b');
  assert.equal(q.len(), 0);
  q.done('a');
  q.done('b');
  assert.ok(q.idle());
});

test('a key added while processing is requeued on done, never handed out twice', async () => {
  const q = new WorkQueue(noLimit);
  q.add('a');
  const k = await q.get();
  assert.equal(k, 'a');
  q.add('a');
  q.add('a');
  assert.equal(q.len(), 0, 'not queued while processing');
  q.done('a');
  assert.equal(q.len(), 1);
  assert.equal(await q.get(), 'a');
  q.done('a');
  assert.ok(q.idle());
});

test('get waits for a key and returns undefined after shutDown', async () => {
  const q = new WorkQueue(noLimit);
  const p = q.get();
  q.add('x');
  assert.equal(await p, 'x');
  const p2 = q.get();
  q.shutDown();
  assert.equal(await p2, undefined);
  q.add('y');
  assert.equal(q.len(), 0);
});

test('exponential rate limiter: 5 ms doubling, capped at 1000 s, forget resets', () => {
  const r = new ExponentialRateLimiter(5, 1000_000);
  assert.deepEqual([r.when('k'), r.when('k'), r.when('k'), r.when('k')], [5, 10, 20, 40]);
  assert.equal(r.numRequeues('k'), 4);
  assert.equal(r.when('other'), 5);
  for (let i = 0; i < 40; i++) r.when('k');
  assert.equal(r.when('k'), 1000_000);
  r.forget('k');
  assert.equal(r.numRequeues('k'), 0);
  assert.equal(r.when('k'), 5);
});

test('bucket limiter allows a burst then spaces by qps; MaxOf takes the longest', () => {
  let now = 0;
  const b = new BucketRateLimiter(10, 2, () => now);
  assert.equal(b.when(), 0);
  assert.equal(b.when(), 0);
  assert.equal(b.when(), 100);
  now = 1000;
  assert.equal(b.when(), 0);
  const m = new MaxOfRateLimiter(
    new ExponentialRateLimiter(5, 1000),
    new BucketRateLimiter(10, 100, () => 0),
  );
  assert.equal(m.when('a'), 5);
  assert.equal(m.when('a'), 10);
  assert.equal(m.numRequeues('a'), 2);
  m.forget('a');
  assert.equal(m.numRequeues('a'), 0);
});

test('addAfter delays; the earliest pending delay wins', async () => {
  const q = new WorkQueue(noLimit);
  q.addAfter('a', 30);
  q.addAfter('a', 5);
  q.addAfter('a', 50);
  assert.equal(q.len(), 0);
  const t0 = Date.now();
  assert.equal(await q.get(), 'a');
  const dt = Date.now() - t0;
  assert.ok(dt < 29, `took ${dt} ms`);
  q.done('a');
  q.shutDown();
});

test('runWorkers retries failures with backoff, forgets on success, honours requeueAfter', async () => {
  const q = new WorkQueue(new ExponentialRateLimiter(2, 50));
  const calls: string[] = [];
  let failures = 0;
  let requeued = false;
  const done = runWorkers(q, 2, (key) => {
    calls.push(key);
    if (key === 'flaky' && failures < 3) {
      failures++;
      throw new Error('boom');
    }
    if (key === 'again' && !requeued) {
      requeued = true;
      return { requeueAfterMs: 5 };
    }
  });
  q.add('flaky');
  q.add('again');
  const count = (k: string): number => calls.filter((c) => c === k).length;
  const deadline = Date.now() + 2000;
  while (Date.now() < deadline && (count('flaky') < 4 || count('again') < 2))
    await new Promise((r) => setTimeout(r, 5));
  assert.equal(count('flaky'), 4);
  assert.equal(count('again'), 2);
  assert.equal(q.numRequeues('flaky'), 0, 'forgotten after success');
  q.shutDown();
  await done;
});

test('runWorkers never processes the same key concurrently', async () => {
  const q = new WorkQueue(noLimit);
  let active = 0;
  let maxActive = 0;
  let n = 0;
  const done = runWorkers(q, 4, async () => {
    active++;
    maxActive = Math.max(maxActive, active);
    n++;
    await new Promise((r) => setTimeout(r, 5));
    active--;
  });
  for (let i = 0; i < 5; i++) {
    q.add('same');
    await new Promise((r) => setTimeout(r, 1));
  }
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(maxActive, 1);
  assert.ok(n >= 2 && n <= 5);
  q.shutDown();
  await done;
});

test('runWorkers with batch: queued keys share one batch, a key at most once per batch, async syncs awaited', async () => {
  const q = new WorkQueue(noLimit);
  const batches: string[][] = [];
  let current: string[] | undefined;
  const batcher = {
    batch<T>(fn: () => T): T {
      current = [];
      try {
        return fn();
      } finally {
        batches.push(current);
        current = undefined;
      }
    },
  };
  const synced: string[] = [];
  let requeued = false;
  for (const k of ['a', 'b', 'c']) q.add(k);
  const done = runWorkers(
    q,
    1,
    (key) => {
      current?.push(key);
      synced.push(key);
      // 'b' asks to run again at once: it must not run a second time inside the same batch.
      if (key === 'b' && !requeued) {
        requeued = true;
        return { requeueAfterMs: 0 };
      }
      if (key === 'c') return Promise.resolve();
      return undefined;
    },
    undefined,
    batcher,
  );
  while (synced.length < 4) await new Promise((r) => setTimeout(r, 5));
  q.shutDown();
  await done;
  assert.deepEqual(batches[0], ['a', 'b', 'c']);
  assert.deepEqual(synced, ['a', 'b', 'c', 'b']);
  assert.ok(
    batches.slice(1).some((b) => b.includes('b')),
    'b ran again in a later batch',
  );
});
