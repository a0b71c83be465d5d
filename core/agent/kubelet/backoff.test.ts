import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Backoff, goDuration } from './backoff.ts';

describe('kubelet back-off', () => {
  test('first failure restarts at once, then 10 s doubling to 5 min', () => {
    const b = new Backoff();
    const key = 'uid/c';
    let t = 1_000_000;
    assert.equal(b.inBackoffSince(key, t, t), false, 'no back-off before the first failure');
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      delays.push(b.next(key, t));
      assert.equal(b.inBackoffSince(key, t, t + 1), true);
      assert.equal(b.inBackoffSince(key, t, t + b.delayMs(key, t)), false);
      t += b.delayMs(key, t) + 500; // the container crashes right after its restart
    }
    assert.deepEqual(delays, [10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
  });

  test('a run of 10 minutes (2 × max) resets it', () => {
    const b = new Backoff();
    b.next('k', 0);
    b.next('k', 10_000);
    assert.equal(b.delayMs('k', 20_000), 20_000);
    const later = 10_000 + 600_001;
    assert.equal(b.delayMs('k', later), 0);
    assert.equal(b.next('k', later), 10_000);
  });

  test('forgetPrefix drops one pod', () => {
    const b = new Backoff();
    b.next('a/x', 0);
    b.next('b/x', 0);
    b.forgetPrefix('a/');
    assert.equal(b.delayMs('a/x', 1), 0);
    assert.equal(b.delayMs('b/x', 1), 10_000);
  });

  test('Go durations', () => {
    assert.equal(goDuration(10_000), '10s');
    assert.equal(goDuration(80_000), '1m20s');
    assert.equal(goDuration(300_000), '5m0s');
  });
});
