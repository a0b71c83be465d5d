import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../store/sqlite-store.ts';
import { GenericRegistry } from './generic-registry.ts';
import { ResourceTable } from './resources.ts';
import { allStrategies } from '../registry/index.ts';
import { StatusError } from '../api/status.ts';
import type { KObject } from '../api/object.ts';
import type { RequestContext } from '../registry/types.ts';

function setup() {
  const store = openStore({ path: ':memory:' });
  const table = new ResourceTable(allStrategies());
  const reg = new GenericRegistry(store, table);
  const ctx = (dryRun = false): RequestContext => ({
    user: { username: 'test', groups: [] },
    now: new Date('2026-11-23T10:00:00Z'),
    dryRun,
    authorizer: {
      authorize: () => ({ decision: 'allow', reason: '' }),
      rulesFor: () => ({ resourceRules: [], nonResourceRules: [], incomplete: false }),
    },
  });
  const cm = table.lookup('', 'v1', 'configmaps')!;
  const pods = table.lookup('', 'v1', 'pods')!;
  const deploys = table.lookup('apps', 'v1', 'deployments')!;
  return { store, reg, ctx, cm, pods, deploys };
}

const is = (code: number, reason?: string) => (e: unknown) =>
  e instanceof StatusError && e.code === code && (!reason || e.reason === reason);

test('create fills server fields, generateName, and refuses duplicates and bad kinds', () => {
  const { reg, ctx, cm } = setup();
  const a = reg.create(cm, 'ns', { metadata: { generateName: 'x-' }, data: { a: '1' } }, ctx());
  assert.match(a.metadata.name!, /^x-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  assert.ok(a.metadata.uid && a.metadata.creationTimestamp && a.metadata.resourceVersion);
  assert.equal(a.metadata.generation, undefined, 'ConfigMaps have no generation');
  assert.equal(a.kind, 'ConfigMap');
  assert.throws(
    () => reg.create(cm, 'ns', { metadata: { name: a.metadata.name } }, ctx()),
    is(409, 'AlreadyExists'),
  );
  assert.throws(() => reg.create(cm, 'ns', { kind: 'Secret', metadata: { name: 'y' } }, ctx()), is(400));
  assert.throws(() => reg.create(cm, 'other', { metadata: { name: 'y', namespace: 'ns' } }, ctx()), is(400));
  assert.throws(() => reg.create(cm, 'ns', { metadata: { name: 'Bad' } }, ctx()), is(422, 'Invalid'));
});

test('dry-run persists nothing', () => {
  const { reg, ctx, cm, store } = setup();
  const rev = store.revision();
  const out = reg.create(cm, 'ns', { metadata: { name: 'dry' } }, ctx(true));
  assert.equal(out.metadata.name, 'dry');
  assert.equal(store.revision(), rev);
  assert.equal(reg.tryGet(cm, 'ns', 'dry'), undefined);
});

test('updates: optimistic concurrency, no-op writes, generation only on spec change', () => {
  const { reg, ctx, cm, deploys, store } = setup();
  const a = reg.create(cm, 'ns', { metadata: { name: 'a' }, data: { v: '1' } }, ctx());
  const b = reg.update(cm, 'ns', 'a', { ...a, data: { v: '2' } }, ctx()).object;
  assert.notEqual(b.metadata.resourceVersion, a.metadata.resourceVersion);
  assert.throws(() => reg.update(cm, 'ns', 'a', { ...a, data: { v: '3' } }, ctx()), is(409, 'Conflict'));
  const rev = store.revision();
  const same = reg.update(cm, 'ns', 'a', { ...b }, ctx()).object;
  assert.equal(same.metadata.resourceVersion, b.metadata.resourceVersion);
  assert.equal(store.revision(), rev, 'a no-op update is not written');

  const tpl = { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'i' }] } };
  const d = reg.create(
    deploys,
    'ns',
    { metadata: { name: 'd' }, spec: { selector: { matchLabels: { app: 'x' } }, template: tpl } },
    ctx(),
  );
  assert.equal(d.metadata.generation, 1);
  const d2 = reg.update(
    deploys,
    'ns',
    'd',
    { ...d, metadata: { ...d.metadata, labels: { l: 'v' } } },
    ctx(),
  ).object;
  assert.equal(d2.metadata.generation, 1, 'metadata changes keep the generation');
  const d3 = reg.update(
    deploys,
    'ns',
    'd',
    { ...d2, spec: { ...(d2['spec'] as object), replicas: 5 } },
    ctx(),
  ).object;
  assert.equal(d3.metadata.generation, 2);
  assert.throws(
    () =>
      reg.update(
        deploys,
        'ns',
        'd',
        { ...d3, spec: { ...(d3['spec'] as object), selector: { matchLabels: { app: 'y' } } } },
        ctx(),
      ),
    is(422),
  );
});

test('finalizers hold a deletion until they are removed', () => {
  const { reg, ctx, cm } = setup();
  reg.create(cm, 'ns', { metadata: { name: 'f', finalizers: ['berth.test/hold'] } }, ctx());
  const r = reg.delete(cm, 'ns', 'f', {}, ctx());
  assert.equal(r.gone, false);
  assert.ok(r.object.metadata.deletionTimestamp);
  const held = reg.get(cm, 'ns', 'f');
  const done = reg.update(cm, 'ns', 'f', { ...held, metadata: { ...held.metadata, finalizers: [] } }, ctx());
  assert.ok(done.object.metadata.deletionTimestamp);
  assert.equal(reg.tryGet(cm, 'ns', 'f'), undefined);
});

test('propagation policies add the garbage collector finalizers', () => {
  const { reg, ctx, cm } = setup();
  reg.create(cm, 'ns', { metadata: { name: 'o' } }, ctx());
  const o = reg.delete(cm, 'ns', 'o', { propagationPolicy: 'Orphan' }, ctx());
  assert.deepEqual(o.object.metadata.finalizers, ['orphan']);
  reg.create(cm, 'ns', { metadata: { name: 'g' } }, ctx());
  const g = reg.delete(cm, 'ns', 'g', { propagationPolicy: 'Foreground' }, ctx());
  assert.deepEqual(g.object.metadata.finalizers, ['foregroundDeletion']);
  reg.create(cm, 'ns', { metadata: { name: 'b' } }, ctx());
  assert.equal(reg.delete(cm, 'ns', 'b', { propagationPolicy: 'Background' }, ctx()).gone, true);
});

test('pods: unscheduled go at once, bound ones get their grace period; preconditions are checked', () => {
  const { reg, ctx, pods } = setup();
  const pod = (name: string, nodeName?: string): KObject => ({
    metadata: { name },
    spec: { containers: [{ name: 'c', image: 'i' }], ...(nodeName ? { nodeName } : {}) },
  });
  reg.create(pods, 'ns', pod('p'), ctx());
  assert.equal(reg.delete(pods, 'ns', 'p', {}, ctx()).gone, true);
  const q = reg.create(pods, 'ns', pod('q', 'node-a'), ctx());
  assert.throws(() => reg.delete(pods, 'ns', 'q', { preconditions: { uid: 'nope' } }, ctx()), is(409));
  const r = reg.delete(pods, 'ns', 'q', {}, ctx());
  assert.equal(r.gone, false);
  assert.equal(r.object.metadata.deletionGracePeriodSeconds, 30);
  assert.equal(r.object.metadata.deletionTimestamp, '2026-11-23T10:00:30Z');
  assert.equal(reg.delete(pods, 'ns', 'q', { gracePeriodSeconds: 0 }, ctx()).gone, true);
  void q;
});

test('watch turns selector transitions into ADDED/DELETED, as the watch cache does', () => {
  const { reg, ctx, cm } = setup();
  const a = reg.create(cm, 'ns', { metadata: { name: 'a' } }, ctx());
  const seen: string[] = [];
  const w = reg.watch(
    cm,
    'ns',
    { labelSelector: 'sel=yes', resourceVersion: a.metadata.resourceVersion },
    (t, o) => seen.push(`${t}:${o.metadata.name}`),
  );
  const a2 = reg.update(
    cm,
    'ns',
    'a',
    { ...a, metadata: { ...a.metadata, labels: { sel: 'yes' } } },
    ctx(),
  ).object;
  const a3 = reg.update(cm, 'ns', 'a', { ...a2, data: { x: '1' } }, ctx()).object;
  reg.update(cm, 'ns', 'a', { ...a3, metadata: { ...a3.metadata, labels: { sel: 'no' } } }, ctx());
  w.stop();
  assert.deepEqual(seen, ['ADDED:a', 'MODIFIED:a', 'DELETED:a']);
});
