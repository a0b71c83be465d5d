import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KObject } from '../api/object.ts';
import { InProcessClient, type ResourceRef } from './in-process.ts';
import { startCluster, type RunningCluster } from '../cluster/cluster.ts';
import { SharedInformer, SharedInformerFactory } from './informer.ts';

const CM: ResourceRef = { group: '', version: 'v1', resource: 'configmaps' };
const NS = 'default';
let dir: string;
let cluster: RunningCluster;
let client: InProcessClient;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-informer-'));
  cluster = await startCluster({ dataDir: dir, apiPort: 0 });
  client = new InProcessClient(cluster.server, {
    username: 'system:kube-controller-manager',
    groups: ['system:authenticated'],
  });
});

after(async () => {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
});

const cm = (name: string, owner?: string): KObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: {
    name,
    namespace: NS,
    ...(owner ? { ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'o', uid: owner }] } : {}),
  },
  data: { a: '1' },
});

test('informer lists, follows changes, indexes by owner, and resumes or relists after a stop', () => {
  client.create(CM, NS, cm('inf-a', 'u1'));
  const inf = new SharedInformer(client, CM, { namespace: NS });
  const seen: string[] = [];
  inf.addHandlers({
    add: (o) => seen.push(`add ${o.metadata.name ?? ''}`),
    update: (_o, n) => seen.push(`update ${n.metadata.name ?? ''}`),
    delete: (o) => seen.push(`delete ${o.metadata.name ?? ''}`),
  });
  inf.start();
  assert.ok(inf.hasSynced);
  assert.ok(inf.get(NS, 'inf-a'));
  assert.deepEqual(
    inf.byOwner('u1').map((o) => o.metadata.name),
    ['inf-a'],
  );
  client.create(CM, NS, cm('inf-b', 'u1'));
  const b = client.get(CM, NS, 'inf-b');
  client.update(CM, NS, { ...b, data: { a: '2' } });
  assert.equal((inf.get(NS, 'inf-b')?.['data'] as { a: string }).a, '2');
  assert.equal(inf.byOwner('u1').length, 2);
  client.delete(CM, NS, 'inf-a');
  assert.equal(inf.get(NS, 'inf-a'), undefined);
  assert.equal(inf.byOwner('u1').length, 1);
  assert.deepEqual(
    seen.filter((s) => s.includes('inf-')),
    ['add inf-a', 'add inf-b', 'update inf-b', 'delete inf-a'],
  );

  // Stopped: changes are missed, then a restart resumes from the last resourceVersion.
  inf.stop();
  client.delete(CM, NS, 'inf-b');
  client.create(CM, NS, cm('inf-c'));
  inf.restart();
  assert.equal(inf.get(NS, 'inf-b'), undefined);
  assert.ok(inf.get(NS, 'inf-c'));
  assert.equal(inf.byOwner('u1').length, 0);

  // A full relist diffs against the cache: objects gone meanwhile are reported deleted.
  inf.stop();
  client.delete(CM, NS, 'inf-c');
  inf.relist();
  assert.equal(inf.get(NS, 'inf-c'), undefined);
  assert.ok(seen.includes('delete inf-c'));
  inf.stop();
});

test('factory shares one informer per resource', () => {
  const f = new SharedInformerFactory(client);
  assert.equal(f.informer(CM), f.informer({ ...CM }));
  f.start();
  assert.ok(f.informer(CM).hasSynced);
  f.stop();
});
