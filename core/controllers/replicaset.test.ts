import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KObject } from '../api/object.ts';
import { InProcessClient, type ResourceRef } from '../client/in-process.ts';
import { startCluster, type RunningCluster } from '../cluster/cluster.ts';
import { rankPodsForDeletion, slowStartBatch } from './replicaset.ts';
import { waitFor } from '../testing/wait.ts';

const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
const RS: ResourceRef = { group: 'apps', version: 'v1', resource: 'replicasets' };
const SA: ResourceRef = { group: '', version: 'v1', resource: 'serviceaccounts' };
const NS = 'default';

let dir: string;
let cluster: RunningCluster;
let client: InProcessClient;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-rs-'));
  cluster = await startCluster({ dataDir: dir, apiPort: 0 });
  client = new InProcessClient(cluster.server, {
    username: 'system:kube-controller-manager',
    groups: ['system:authenticated'],
  });
  await waitFor('default service account', () => client.get(SA, NS, 'default'));
});

after(async () => {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
});

const podsOf = (sel: Record<string, string>): KObject[] =>
  client
    .list(PODS, NS, {
      labelSelector: Object.entries(sel)
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    })
    .items.filter((p) => !p.metadata.deletionTimestamp);

function rs(
  name: string,
  replicas: number,
  labels: Record<string, string>,
  extra: Record<string, unknown> = {},
): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: NS },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
      ...extra,
    },
  };
}

function bare(name: string, labels: Record<string, string>): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels },
    spec: { containers: [{ name: 'c', image: 'nginx' }] },
  };
}

/** What a kubelet would write: Running and Ready. */
function markReady(pod: KObject, at = new Date()): void {
  const live = client.get(PODS, pod.metadata.namespace ?? '', pod.metadata.name ?? '');
  const t = at.toISOString().replace(/\.\d+Z$/, 'Z');
  client.update(
    PODS,
    live.metadata.namespace ?? '',
    {
      ...live,
      status: {
        ...((live['status'] ?? {}) as object),
        phase: 'Running',
        conditions: [
          { type: 'Initialized', status: 'True', lastTransitionTime: t },
          { type: 'Ready', status: 'True', lastTransitionTime: t },
          { type: 'ContainersReady', status: 'True', lastTransitionTime: t },
          { type: 'PodScheduled', status: 'True', lastTransitionTime: t },
        ],
      },
    },
    'status',
  );
}

test('ReplicaSet creates its pods with generateName and a controller ownerReference, then status', async () => {
  const created = client.create(RS, NS, rs('web', 3, { app: 'web' }));
  const pods = await waitFor('3 pods', () => {
    const p = podsOf({ app: 'web' });
    return p.length === 3 && p;
  });
  for (const p of pods) {
    assert.match(p.metadata.name ?? '', /^web-[a-z0-9]{5}$/);
    const ref = p.metadata.ownerReferences?.[0];
    assert.equal(ref?.kind, 'ReplicaSet');
    assert.equal(ref?.uid, created.metadata.uid);
    assert.equal(ref?.controller, true);
    assert.equal(ref?.blockOwnerDeletion, true);
  }
  await waitFor('status replicas 3', () => {
    const s = client.get(RS, NS, 'web')['status'] as Record<string, unknown>;
    return s['replicas'] === 3 && s['fullyLabeledReplicas'] === 3 && s['observedGeneration'] === 1;
  });
  for (const p of pods) markReady(p);
  await waitFor('ready/available 3', () => {
    const s = client.get(RS, NS, 'web')['status'] as Record<string, unknown>;
    return s['readyReplicas'] === 3 && s['availableReplicas'] === 3;
  });
  // A deleted pod is replaced.
  client.delete(PODS, NS, pods[0]!.metadata.name ?? '');
  await waitFor('replacement', () => {
    const p = podsOf({ app: 'web' });
    return p.length === 3 && !p.some((x) => x.metadata.name === pods[0]!.metadata.name);
  });
});

test('scale down deletes the surplus, not-ready pods first', async () => {
  client.create(RS, NS, rs('down', 4, { app: 'down' }));
  const pods = await waitFor('4 pods', () => {
    const p = podsOf({ app: 'down' });
    return p.length === 4 && p;
  });
  markReady(pods[0]!);
  markReady(pods[1]!);
  const live = client.get(RS, NS, 'down');
  client.update(RS, NS, { ...live, spec: { ...(live['spec'] as object), replicas: 2 } });
  const left = await waitFor('2 pods', () => {
    const p = podsOf({ app: 'down' });
    return p.length === 2 && p;
  });
  assert.deepEqual(
    left.map((p) => p.metadata.name).sort(),
    [pods[0]!.metadata.name, pods[1]!.metadata.name].sort(),
  );
  await waitFor(
    'status 2',
    () => (client.get(RS, NS, 'down')['status'] as { replicas?: number }).replicas === 2,
  );
});

test('adopts a matching orphan (matchExpressions) and releases a pod whose label changes', async () => {
  client.create(PODS, NS, bare('orphan-1', { app: 'adopt', tier: 'x' }));
  const owner = client.create(
    RS,
    NS,
    rs(
      'adopt',
      2,
      { app: 'adopt', tier: 'x' },
      {
        selector: {
          matchLabels: { app: 'adopt' },
          matchExpressions: [{ key: 'tier', operator: 'In', values: ['x'] }],
        },
      },
    ),
  );
  await waitFor('adopted + 1 created', () => {
    const p = podsOf({ app: 'adopt' });
    const o = p.find((x) => x.metadata.name === 'orphan-1');
    return p.length === 2 && o?.metadata.ownerReferences?.[0]?.uid === owner.metadata.uid;
  });
  // Surplus: a third matching bare pod is adopted then deleted.
  client.create(PODS, NS, bare('orphan-2', { app: 'adopt', tier: 'x' }));
  await waitFor('back to 2', () => podsOf({ app: 'adopt' }).length === 2);
  // Relabel the adopted pod: it is released and replaced.
  const live = client.get(PODS, NS, 'orphan-1');
  client.update(PODS, NS, { ...live, metadata: { ...live.metadata, labels: { app: 'adopt', tier: 'y' } } });
  await waitFor('released', () => !client.get(PODS, NS, 'orphan-1').metadata.ownerReferences?.length);
  await waitFor('replacement', () => {
    const p = client.list(PODS, NS, { labelSelector: 'app=adopt,tier=x' }).items;
    return p.length === 2 && p.every((x) => x.metadata.ownerReferences?.[0]?.uid === owner.metadata.uid);
  });
});

test('availableReplicas honours minReadySeconds', async () => {
  // 5 s, so that the ready-but-not-yet-available state is still there to see on a loaded machine (with 1 s
  // the controller's first status write could already count the pod available).
  client.create(RS, NS, rs('slow', 1, { app: 'slow' }, { minReadySeconds: 5 }));
  const [pod] = await waitFor('pod', () => {
    const p = podsOf({ app: 'slow' });
    return p.length === 1 && p;
  });
  const readyAt = Date.now();
  markReady(pod!);
  await waitFor('ready but not available', () => {
    const s = client.get(RS, NS, 'slow')['status'] as Record<string, unknown>;
    return s['readyReplicas'] === 1 && s['availableReplicas'] === undefined;
  });
  await waitFor(
    'available after 5 s',
    () => (client.get(RS, NS, 'slow')['status'] as Record<string, unknown>)['availableReplicas'] === 1,
    15_000,
  );
  assert.ok(Date.now() - readyAt >= 4000, 'not available long before minReadySeconds');
});

test('ReplicationController is reconciled by the same controller', async () => {
  const RC: ResourceRef = { group: '', version: 'v1', resource: 'replicationcontrollers' };
  const rc = client.create(RC, NS, {
    apiVersion: 'v1',
    kind: 'ReplicationController',
    metadata: { name: 'legacy', namespace: NS },
    spec: {
      replicas: 2,
      selector: { app: 'legacy' },
      template: {
        metadata: { labels: { app: 'legacy' } },
        spec: { containers: [{ name: 'c', image: 'nginx' }] },
      },
    },
  });
  const pods = await waitFor('2 pods', () => {
    const p = podsOf({ app: 'legacy' });
    return p.length === 2 && p;
  });
  for (const p of pods) {
    const ref = p.metadata.ownerReferences?.[0];
    assert.equal(ref?.kind, 'ReplicationController');
    assert.equal(ref?.apiVersion, 'v1');
    assert.equal(ref?.uid, rc.metadata.uid);
  }
  await waitFor(
    'rc status',
    () => (client.get(RC, NS, 'legacy')['status'] as { replicas?: number }).replicas === 2,
  );
});

test('ranking and slow start (unit)', () => {
  const mk = (
    name: string,
    o: { node?: string; phase?: string; ready?: boolean; created: string },
  ): KObject => ({
    metadata: { name, creationTimestamp: o.created },
    spec: o.node ? { nodeName: o.node } : {},
    status: {
      phase: o.phase ?? 'Pending',
      conditions: o.ready ? [{ type: 'Ready', status: 'True', lastTransitionTime: o.created }] : [],
    },
  });
  const pods = [
    mk('running-ready-old', { node: 'n', phase: 'Running', ready: true, created: '2020-01-01T00:00:00Z' }),
    mk('running-ready-new', { node: 'n', phase: 'Running', ready: true, created: '2020-01-02T00:00:00Z' }),
    mk('running-notready', { node: 'n', phase: 'Running', created: '2020-01-01T00:00:00Z' }),
    mk('pending-assigned', { node: 'n', created: '2020-01-01T00:00:00Z' }),
    mk('unassigned', { created: '2020-01-01T00:00:00Z' }),
  ];
  assert.deepEqual(
    rankPodsForDeletion(pods).map((p) => p.metadata.name),
    ['unassigned', 'pending-assigned', 'running-notready', 'running-ready-new', 'running-ready-old'],
  );
  let calls = 0;
  const r = slowStartBatch(10, 1, () => {
    calls++;
  });
  assert.equal(r.ok, 10);
  assert.equal(calls, 10);
  let n = 0;
  const r2 = slowStartBatch(10, 1, () => {
    n++;
    if (n === 4) throw new Error('x');
  });
  // Batches 1, 2, then 4 (fails in the third batch): 1+2+4 attempted, 6 ok.
  assert.equal(n, 7);
  assert.equal(r2.ok, 6);
  assert.ok(r2.error);
});
