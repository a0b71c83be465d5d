import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RuntimeView, runtimeFingerprint } from './runtime-view.ts';

test('runtime view: what the worker made and read matches what the relist computes', () => {
  const v = new RuntimeView();
  assert.equal(v.fingerprint(), undefined, 'nothing read yet: unknown');
  v.listedSandboxes([]);
  v.listedContainers([]);
  assert.equal(v.fingerprint(), runtimeFingerprint([], []));
  v.sandbox('s1', 'SANDBOX_READY');
  v.container('c1', 'CONTAINER_CREATED');
  v.container('c1', 'CONTAINER_RUNNING');
  const relist = runtimeFingerprint(
    [{ id: 's1', state: 'SANDBOX_READY' }],
    [{ id: 'c1', state: 'CONTAINER_RUNNING' }],
  );
  assert.equal(v.fingerprint(), relist);
  // The container exited: the relist sees news.
  assert.notEqual(
    v.fingerprint(),
    runtimeFingerprint([{ id: 's1', state: 'SANDBOX_READY' }], [{ id: 'c1', state: 'CONTAINER_EXITED' }]),
  );
  v.container('c1', undefined);
  v.sandbox('s1', undefined);
  assert.equal(v.fingerprint(), runtimeFingerprint([], []));
  v.invalidate();
  assert.equal(v.fingerprint(), undefined);
  v.listedContainers([{ id: 'c2', state: 'CONTAINER_EXITED' }]);
  assert.equal(v.fingerprint(), runtimeFingerprint([], [{ id: 'c2', state: 'CONTAINER_EXITED' }]));
});
