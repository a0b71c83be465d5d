import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import type { RequestContext } from '../../registry/types.ts';
import type { Served } from '../resources.ts';
import { addDefaultTolerations, defaultTolerationSeconds } from './default-toleration-seconds.ts';

const served = (resource: string): Served =>
  ({ strategy: { info: { group: '', version: 'v1', resource } } }) as unknown as Served;
const ctx = {} as RequestContext;
const notReady = {
  key: 'node.kubernetes.io/not-ready',
  operator: 'Exists',
  effect: 'NoExecute',
  tolerationSeconds: 300,
};
const unreachable = { ...notReady, key: 'node.kubernetes.io/unreachable' };

const pod = (tolerations?: unknown[]): KObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p' },
  spec: { containers: [{ name: 'c', image: 'nginx' }], ...(tolerations ? { tolerations } : {}) },
});
const tolerationsOf = (p: KObject): unknown[] | undefined =>
  (p['spec'] as { tolerations?: unknown[] }).tolerations;

test('adds not-ready and unreachable NoExecute tolerations (300 s) on pod create', () => {
  const plugin = defaultTolerationSeconds();
  const p = pod();
  plugin.admit?.('CREATE', served('pods'), p, undefined, ctx);
  assert.deepEqual(tolerationsOf(p), [notReady, unreachable]);
  const keep = { key: 'dedicated', operator: 'Equal', value: 'x', effect: 'NoSchedule' };
  const q = pod([keep]);
  plugin.admit?.('CREATE', served('pods'), q, undefined, ctx);
  assert.deepEqual(tolerationsOf(q), [keep, notReady, unreachable]);
});

test('leaves pods that already tolerate the taints, updates and other resources alone', () => {
  const own = {
    key: 'node.kubernetes.io/unreachable',
    operator: 'Exists',
    effect: 'NoExecute',
    tolerationSeconds: 2,
  };
  const p = pod([own]);
  addDefaultTolerations(p);
  assert.deepEqual(tolerationsOf(p), [own, notReady]);
  // An empty key with Exists tolerates everything; an empty effect matches NoExecute.
  const all = pod([{ operator: 'Exists' }]);
  addDefaultTolerations(all);
  assert.deepEqual(tolerationsOf(all), [{ operator: 'Exists' }]);
  const anyEffect = pod([{ key: 'node.kubernetes.io/not-ready', operator: 'Exists' }]);
  addDefaultTolerations(anyEffect);
  assert.deepEqual(tolerationsOf(anyEffect), [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists' },
    unreachable,
  ]);
  // A NoSchedule toleration of the key does not count.
  const ns = pod([{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoSchedule' }]);
  addDefaultTolerations(ns);
  assert.equal(tolerationsOf(ns)?.length, 3);
  const plugin = defaultTolerationSeconds({ notReadySeconds: 10, unreachableSeconds: 20 });
  const u = pod();
  plugin.admit?.('UPDATE', served('pods'), u, pod(), ctx);
  assert.equal(tolerationsOf(u), undefined);
  const other = pod();
  plugin.admit?.('CREATE', served('podtemplates'), other, undefined, ctx);
  assert.equal(tolerationsOf(other), undefined);
  const c = pod();
  plugin.admit?.('CREATE', served('pods'), c, undefined, ctx);
  assert.deepEqual(
    (tolerationsOf(c) as { tolerationSeconds: number }[]).map((t) => t.tolerationSeconds),
    [10, 20],
  );
});
