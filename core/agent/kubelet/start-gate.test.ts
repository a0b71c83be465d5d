import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StartGate } from './start-gate.ts';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A call that finishes when told to. */
function pending(): { promise: Promise<void>; done: () => void } {
  let done!: () => void;
  const promise = new Promise<void>((r) => (done = r));
  return { promise, done };
}

test('start gate: at most `slots` calls at once; a waiting call of an older pod goes first', async () => {
  const gate = new StartGate(2, 60_000);
  const order: string[] = [];
  const calls = new Map<string, { promise: Promise<void>; done: () => void }>();
  const run = (name: string, priority: number): Promise<void> =>
    gate.run(priority, () => {
      order.push(name);
      const c = pending();
      calls.set(name, c);
      return c.promise;
    });
  const all = [run('a', 5), run('b', 6), run('c', 9), run('d', 7), run('e', 1)];
  await tick();
  assert.deepEqual(order, ['a', 'b']);
  assert.deepEqual(gate.load, { inFlight: 2, waiting: 3 });
  calls.get('a')!.done();
  await tick();
  // e (priority 1) came last but is the oldest pod.
  assert.deepEqual(order, ['a', 'b', 'e']);
  calls.get('b')!.done();
  calls.get('e')!.done();
  await tick();
  assert.deepEqual(order, ['a', 'b', 'e', 'd', 'c']);
  calls.get('d')!.done();
  calls.get('c')!.done();
  await Promise.all(all);
  assert.deepEqual(gate.load, { inFlight: 0, waiting: 0 });
});

test('start gate: a call holding its slot too long lets the next one in; failures release too', async () => {
  const gate = new StartGate(1, 50);
  // The gate's timer does not keep the process alive (unref): this one does, for the test.
  const alive = setTimeout(() => {}, 10_000);
  const slow = pending();
  const first = gate.run(0, () => slow.promise);
  let secondRan = false;
  const second = gate.run(1, async () => {
    secondRan = true;
  });
  await tick();
  assert.equal(secondRan, false);
  await second; // after ~50 ms, while the first still runs
  assert.equal(secondRan, true);
  slow.done();
  await first;
  await assert.rejects(
    gate.run(0, () => Promise.reject(new Error('boom'))),
    /boom/,
  );
  let thirdRan = false;
  await gate.run(0, async () => {
    thirdRan = true;
  });
  assert.equal(thirdRan, true);
  assert.deepEqual(gate.load, { inFlight: 0, waiting: 0 });
  clearTimeout(alive);
});
