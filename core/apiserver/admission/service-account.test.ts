import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { copyImagePullSecrets } from './service-account.ts';

const pod = (spec: Record<string, unknown> = {}): KObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'ns' },
  spec: { containers: [{ name: 'c', image: 'x' }], ...spec },
});
const sa = (pulls?: { name: string }[]): KObject => ({
  apiVersion: 'v1',
  kind: 'ServiceAccount',
  metadata: { name: 'default', namespace: 'ns' },
  ...(pulls ? { imagePullSecrets: pulls } : {}),
});

test("a pod without imagePullSecrets gets its service account's", () => {
  const p = pod();
  copyImagePullSecrets(p, sa([{ name: 'regcred' }, { name: 'other' }]));
  assert.deepEqual((p['spec'] as { imagePullSecrets?: unknown }).imagePullSecrets, [
    { name: 'regcred' },
    { name: 'other' },
  ]);
});

test("a pod's own imagePullSecrets are kept; an account without any changes nothing", () => {
  const own = pod({ imagePullSecrets: [{ name: 'mine' }] });
  copyImagePullSecrets(own, sa([{ name: 'regcred' }]));
  assert.deepEqual((own['spec'] as { imagePullSecrets?: unknown }).imagePullSecrets, [{ name: 'mine' }]);
  const none = pod();
  copyImagePullSecrets(none, sa());
  assert.equal((none['spec'] as { imagePullSecrets?: unknown }).imagePullSecrets, undefined);
});
