import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ephemeralStep } from './ephemeral-containers.ts';

describe('ephemeral containers (ephemeralStep)', () => {
  test('started once, never again (whatever state the first instance is in)', () => {
    assert.deepEqual(ephemeralStep({}, false, undefined), { do: 'start' });
    assert.deepEqual(ephemeralStep({}, true, undefined), { do: 'none' });
    assert.deepEqual(ephemeralStep({ targetContainerName: 'app' }, true, 'abc'), { do: 'none' });
  });

  test("with a target: waits for it to run, then starts in the target's PID namespace", () => {
    assert.deepEqual(ephemeralStep({ targetContainerName: 'app' }, false, undefined), {
      do: 'wait',
      reason: 'target container app is not running',
    });
    assert.deepEqual(ephemeralStep({ targetContainerName: 'app' }, false, 'abc'), {
      do: 'start',
      targetId: 'abc',
    });
  });
});
