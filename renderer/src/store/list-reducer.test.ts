import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject, WatchEvent } from '../../../electron/contract.ts';
import {
  compareResourceVersions,
  initialListState,
  objectKey,
  reduceList,
  sortedItems,
  type ListState,
} from './list-reducer.ts';

function pod(name: string, rv: string, phase = 'Pending', namespace = 'default'): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, resourceVersion: rv, uid: `uid-${name}` },
    status: { phase },
  };
}
const sync = (rv: string, ...items: KubeObject[]): WatchEvent => ({
  type: 'SYNC',
  items,
  resourceVersion: rv,
});
const names = (s: ListState): string[] => sortedItems(s).map((o) => o.metadata.name ?? '');
const phase = (s: ListState, key: string): unknown =>
  (s.items.get(key)?.['status'] as { phase?: string })?.phase;

test('SYNC replaces everything and marks the list synced', () => {
  let s = reduceList(initialListState, [sync('10', pod('a', '5'), pod('b', '7'))]);
  assert.equal(s.synced, true);
  assert.deepEqual(names(s), ['a', 'b']);
  assert.equal(s.resourceVersion, '10');
  s = reduceList(s, [sync('20', pod('c', '15'))]);
  assert.deepEqual(names(s), ['c']);
  assert.equal(s.listResourceVersion, '20');
});

test('a paged SYNC: the first page replaces, continued pages add to it, the next list replaces again', () => {
  const first: WatchEvent = { type: 'SYNC', items: [pod('a', '5')], resourceVersion: '10', more: true };
  let s = reduceList(initialListState, [first]);
  assert.equal(s.synced, true);
  assert.deepEqual(names(s), ['a']);
  const before = s;
  s = reduceList(s, [
    { type: 'SYNC', items: [pod('b', '6'), pod('c', '7')], resourceVersion: '10', continued: true },
  ]);
  assert.deepEqual(names(s), ['a', 'b', 'c']);
  assert.deepEqual(names(before), ['a'], 'the earlier state is not mutated');
  s = reduceList(s, [{ ...first, items: [pod('z', '30')], resourceVersion: '40' }]);
  assert.deepEqual(names(s), ['z']);
});

test('ADDED, MODIFIED and DELETED update the items', () => {
  let s = reduceList(initialListState, [sync('10')]);
  s = reduceList(s, [{ type: 'ADDED', object: pod('a', '11') }]);
  assert.deepEqual(names(s), ['a']);
  s = reduceList(s, [{ type: 'MODIFIED', object: pod('a', '12', 'Running') }]);
  assert.equal(phase(s, 'default/a'), 'Running');
  assert.equal(s.resourceVersion, '12');
  s = reduceList(s, [{ type: 'DELETED', object: pod('a', '13', 'Running') }]);
  assert.deepEqual(names(s), []);
  assert.equal(s.resourceVersion, '13');
});

test('events before the first SYNC are ignored', () => {
  const s = reduceList(initialListState, [{ type: 'ADDED', object: pod('a', '11') }]);
  assert.equal(s, initialListState);
});

test('resourceVersion ordering: replays no newer than the list or the held object are dropped', () => {
  let s = reduceList(initialListState, [sync('10', pod('a', '8', 'Running'))]);
  const before = s;
  // Already reflected in the list.
  s = reduceList(s, [{ type: 'MODIFIED', object: pod('a', '9', 'Pending') }]);
  assert.equal(s, before, 'a batch that changes nothing returns the same state');
  s = reduceList(s, [{ type: 'MODIFIED', object: pod('a', '15', 'Succeeded') }]);
  // An older event arriving late for the same object.
  s = reduceList(s, [{ type: 'MODIFIED', object: pod('a', '12', 'Failed') }]);
  assert.equal(phase(s, 'default/a'), 'Succeeded');
  // A stale DELETED (older than the held object) must not remove it.
  s = reduceList(s, [{ type: 'DELETED', object: pod('a', '14') }]);
  assert.deepEqual(names(s), ['a']);
  // Integer order, not string order: "100" > "99".
  s = reduceList(s, [{ type: 'MODIFIED', object: pod('a', '99', 'Running') }]);
  s = reduceList(s, [{ type: 'MODIFIED', object: pod('a', '100', 'Unknown') }]);
  assert.equal(phase(s, 'default/a'), 'Unknown');
  assert.equal(s.resourceVersion, '100');
});

test('opaque (non-numeric) resourceVersions are applied without comparison', () => {
  assert.equal(compareResourceVersions('abc', '10'), undefined);
  assert.equal(compareResourceVersions('9', '10')! < 0, true);
  let s = reduceList(initialListState, [sync('xyz', pod('a', 'p'))]);
  s = reduceList(s, [{ type: 'MODIFIED', object: pod('a', 'o', 'Running') }]);
  assert.equal(phase(s, 'default/a'), 'Running');
});

test('410 Gone marks the list stale until the relist SYNC', () => {
  let s = reduceList(initialListState, [sync('10', pod('a', '5'))]);
  s = reduceList(s, [{ type: 'ERROR', status: { code: 410, reason: 'Expired', message: 'too old' } }]);
  assert.equal(s.stale, true);
  assert.deepEqual(names(s), ['a'], 'items stay visible while stale');
  s = reduceList(s, [sync('50', pod('b', '40'))]);
  assert.equal(s.stale, false);
  assert.deepEqual(names(s), ['b']);
  // Other errors are kept for display, not treated as expiry.
  s = reduceList(s, [{ type: 'ERROR', status: { code: 500, message: 'boom' } }]);
  assert.equal(s.stale, false);
  assert.equal(s.error?.message, 'boom');
});

test('batching: one batch equals the events applied one by one, and copies the map once', () => {
  const start = reduceList(initialListState, [sync('10', pod('a', '5'), pod('b', '6'))]);
  const batch: WatchEvent[] = [
    { type: 'ADDED', object: pod('c', '11') },
    { type: 'MODIFIED', object: pod('a', '12', 'Running') },
    { type: 'DELETED', object: pod('b', '13') },
    { type: 'MODIFIED', object: pod('c', '14', 'Running') },
    { type: 'BOOKMARK', resourceVersion: '20' },
  ];
  const batched = reduceList(start, batch);
  const stepwise = batch.reduce((s, e) => reduceList(s, [e]), start);
  assert.deepEqual([...batched.items.entries()], [...stepwise.items.entries()]);
  assert.equal(batched.resourceVersion, '20');
  assert.equal(stepwise.resourceVersion, '20');
  assert.notEqual(batched.items, start.items);
  assert.deepEqual(names(start), ['a', 'b'], 'the input state is not mutated');
  assert.deepEqual(names(batched), ['a', 'c']);
});

test('keys are namespace/name, cluster-scoped objects by name', () => {
  assert.equal(objectKey(pod('a', '1', 'Pending', 'kube-system')), 'kube-system/a');
  assert.equal(objectKey({ metadata: { name: 'node-1' } }), 'node-1');
  const s = reduceList(initialListState, [
    sync('1', pod('x', '1', 'Pending', 'b'), pod('x', '1', 'Pending', 'a')),
  ]);
  assert.deepEqual([...s.items.keys()].sort(), ['a/x', 'b/x']);
});
