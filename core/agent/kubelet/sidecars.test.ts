import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Container } from 'kubernetes-types/core/v1';
import { type InitObserved, planInit, stopOrder } from './sidecars.ts';

const sidecar = (name: string): Container => ({ name, restartPolicy: 'Always' });
const regular = (name: string): Container => ({ name });
const running = (started = true): InitObserved => ({ state: 'running', exitCode: 0, started });
const exited = (exitCode: number): InitObserved => ({ state: 'exited', exitCode, started: false });
const seen =
  (m: Record<string, InitObserved>) =>
  (name: string): InitObserved | undefined =>
    m[name];

describe('init containers with sidecars (planInit)', () => {
  const init = [sidecar('log'), regular('setup')];

  test('the sidecar starts first; the next init container waits for it', () => {
    const plan = planInit(init, seen({}), 'Always', false);
    assert.deepEqual(plan, { actions: [{ name: 'log', do: 'start' }], initialized: false, failed: false });
  });

  test('a running sidecar that has not passed its startup probe holds the next one back', () => {
    const plan = planInit(init, seen({ log: running(false) }), 'Always', false);
    assert.deepEqual(plan.actions, [{ name: 'log', do: 'keep' }]);
    assert.equal(plan.initialized, false);
  });

  test('a started sidecar lets the next init container start, and is not waited for to exit', () => {
    const plan = planInit(init, seen({ log: running() }), 'Always', false);
    assert.deepEqual(plan.actions, [
      { name: 'log', do: 'keep' },
      { name: 'setup', do: 'start' },
    ]);
    assert.equal(
      planInit(init, seen({ log: running(), setup: running() }), 'Always', false).initialized,
      false,
    );
  });

  test('initialized once the regular ones succeeded and the sidecars run', () => {
    const plan = planInit(init, seen({ log: running(), setup: exited(0) }), 'Never', false);
    assert.deepEqual(plan, { actions: [{ name: 'log', do: 'keep' }], initialized: true, failed: false });
  });

  test('an exited sidecar is restarted whatever the restartPolicy, before and after initialization', () => {
    assert.deepEqual(planInit(init, seen({ log: exited(0) }), 'Never', false).actions, [
      { name: 'log', do: 'restart' },
    ]);
    const after = planInit(init, seen({ log: exited(1), setup: exited(0) }), 'Never', true);
    assert.deepEqual(after, { actions: [{ name: 'log', do: 'restart' }], initialized: true, failed: false });
  });

  test('after initialization only sidecars are looked at (a missing one is started again)', () => {
    const plan = planInit(
      [regular('a'), sidecar('s1'), sidecar('s2')],
      seen({ s1: running() }),
      'Always',
      true,
    );
    assert.deepEqual(plan.actions, [
      { name: 's1', do: 'keep' },
      { name: 's2', do: 'start' },
    ]);
  });

  test('regular init containers: in order, restarted on failure, the pod fails with Never', () => {
    const two = [regular('a'), regular('b')];
    assert.deepEqual(planInit(two, seen({ a: exited(0) }), 'Always', false).actions, [
      { name: 'b', do: 'start' },
    ]);
    assert.deepEqual(planInit(two, seen({ a: exited(2) }), 'OnFailure', false).actions, [
      { name: 'a', do: 'restart' },
    ]);
    assert.deepEqual(planInit(two, seen({ a: exited(2) }), 'Never', false), {
      actions: [],
      initialized: false,
      failed: true,
    });
    assert.deepEqual(planInit(two, seen({ a: running() }), 'Always', false).actions, []);
    assert.deepEqual(
      planInit(two, seen({ a: { state: 'created', exitCode: 0, started: false } }), 'Always', false).actions,
      [{ name: 'a', do: 'recreate' }],
    );
    assert.equal(planInit([], seen({}), 'Always', false).initialized, true);
  });
});

describe('termination order (stopOrder)', () => {
  const spec = { initContainers: [sidecar('s1'), regular('i'), sidecar('s2')] };

  test('regular containers together first, then sidecars in reverse order of declaration', () => {
    assert.deepEqual(stopOrder(['s1', 'app', 's2', 'debugger'], spec), [['app', 'debugger'], ['s2'], ['s1']]);
  });

  test('only what runs; no empty first group', () => {
    assert.deepEqual(stopOrder(['s1'], spec), [['s1']]);
    assert.deepEqual(stopOrder(['a', 'b'], {}), [['a', 'b']]);
    assert.deepEqual(stopOrder([], spec), []);
  });
});
