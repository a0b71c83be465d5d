import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_VERBS, type Strategy } from '../registry/types.ts';
import { ResourceTable } from './resources.ts';

const strategy = (group: string, version: string, resource: string): Strategy => ({
  info: { group, version, resource, singular: resource, kind: resource, namespaced: true, verbs: ALL_VERBS },
});

test('runtime resources are added and removed with a change notification; built-ins are never shadowed', () => {
  const table = new ResourceTable([strategy('', 'v1', 'pods'), strategy('apps', 'v1', 'deployments')]);
  let changes = 0;
  const off = table.onChange(() => changes++);
  table.setDynamic('a.example.com', [
    strategy('example.com', 'v2', 'as'),
    strategy('example.com', 'v1', 'as'),
  ]);
  assert.equal(changes, 1);
  assert.ok(table.lookup('example.com', 'v1', 'as'));
  assert.deepEqual(table.groups.get('example.com'), ['v2', 'v1']);
  assert.equal(table.all.length, 4);
  table.setDynamic('b.example.com', [
    strategy('example.com', 'v1', 'bs'),
    strategy('apps', 'v1', 'deployments'),
  ]);
  assert.equal(table.lookup('apps', 'v1', 'deployments')?.strategy.info.kind, 'deployments');
  assert.equal(table.all.filter((s) => s.strategy.info.resource === 'deployments').length, 1);
  table.setDynamic('a.example.com', []);
  assert.equal(table.lookup('example.com', 'v2', 'as'), undefined);
  assert.deepEqual(table.groups.get('example.com'), ['v1']);
  table.setDynamic('b.example.com', []);
  assert.equal(table.groups.has('example.com'), false);
  assert.equal(changes, 4);
  table.setDynamic('unknown', []);
  assert.equal(changes, 4, 'removing nothing is no change');
  off();
  table.setDynamic('c.example.com', [strategy('example.com', 'v1', 'cs')]);
  assert.equal(changes, 4, 'unsubscribed');
});
