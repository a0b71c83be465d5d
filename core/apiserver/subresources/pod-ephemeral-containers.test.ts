import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mergeEphemeral } from './pod-ephemeral-containers.ts';

describe('pods/ephemeralcontainers (mergeEphemeral)', () => {
  const dbg = { name: 'debugger-a', image: 'busybox', targetContainerName: 'app' };

  test('new ephemeral containers are added after the stored ones', () => {
    const r = mergeEphemeral([dbg], [dbg, { name: 'debugger-b', image: 'busybox' }]);
    assert.deepEqual(
      r.list.map((c) => c.name),
      ['debugger-a', 'debugger-b'],
    );
    assert.deepEqual(r.changed, []);
  });

  test('stored ones stay even when the request leaves them out; changing one is reported', () => {
    assert.deepEqual(mergeEphemeral([dbg], []).list, [dbg]);
    const r = mergeEphemeral([dbg], [{ ...dbg, image: 'alpine' }]);
    assert.deepEqual(r.list, [dbg]);
    assert.deepEqual(r.changed, ['debugger-a']);
  });
});
