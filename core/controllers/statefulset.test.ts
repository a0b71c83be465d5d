import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1';
import type { KObject } from '../api/object.ts';
import { InProcessClient, type ResourceRef } from '../client/in-process.ts';
import { startCluster, type RunningCluster } from '../cluster/cluster.ts';
import { hashRevisionData, templateOfRevision } from './history.ts';
import { waitFor } from '../testing/wait.ts';

const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
const PVCS: ResourceRef = { group: '', version: 'v1', resource: 'persistentvolumeclaims' };
const STS: ResourceRef = { group: 'apps', version: 'v1', resource: 'statefulsets' };
const CR: ResourceRef = { group: 'apps', version: 'v1', resource: 'controllerrevisions' };
const EVENTS: ResourceRef = { group: '', version: 'v1', resource: 'events' };
const NS = 'default';

let dir: string;
let cluster: RunningCluster;
let client: InProcessClient;

// The claims of volumeClaimTemplates must bind before the scheduler places a pod (VolumeBinding), as on
// any cluster: simulated clusters have the default StorageClass "standard" with a provisioner, as
// Docker-node clusters do.
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-sts-'));
  cluster = await startCluster({
    dataDir: dir,
    apiPort: 0,
    driver: 'simulated',
    nodes: 2,
    // Pods become Running and Ready 150 ms after binding, so ordering is observable.
    simulated: { maxGraceSeconds: 0, startDelayMs: 150 },
  });
  client = new InProcessClient(cluster.server, {
    username: 'test-admin',
    groups: ['system:masters', 'system:authenticated'],
  });
});

after(async () => {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
});

const isReady = (p: KObject): boolean =>
  ((p['status'] as Pod['status'])?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

const livePods = (app: string): KObject[] =>
  client
    .list(PODS, NS, { labelSelector: `app=${app}` })
    .items.filter((p) => !p.metadata.deletionTimestamp)
    .sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));

const stsStatus = (name: string): Record<string, unknown> =>
  (client.get(STS, NS, name)['status'] ?? {}) as Record<string, unknown>;

function statefulSet(name: string, replicas: number, extra: Record<string, unknown> = {}): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: NS },
    spec: {
      replicas,
      serviceName: `${name}-svc`,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'c', image: 'registry.example/db:1' }] },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: 'data' },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
        },
      ],
      ...extra,
    },
  };
}

/** Records pod/PVC watch events as "TYPE kind/name[:ready]" from now on. */
function record(): { log: string[]; stop(): void } {
  const log: string[] = [];
  const rv = client.list(PODS, NS).resourceVersion;
  const w1 = client.watch(PODS, NS, { resourceVersion: rv }, (type, o) => {
    const tag = o.metadata.deletionTimestamp ? ':deleting' : isReady(o) ? ':ready' : '';
    log.push(`${type} pod/${o.metadata.name ?? ''}${tag}`);
  });
  const w2 = client.watch(PVCS, NS, { resourceVersion: rv }, (type, o) => {
    if (type === 'ADDED') log.push(`ADDED pvc/${o.metadata.name ?? ''}`);
  });
  return {
    log,
    stop() {
      w1.stop();
      w2.stop();
    },
  };
}

const firstIndex = (log: string[], entry: string): number => log.findIndex((l) => l === entry);
const firstMatch = (log: string[], re: RegExp): number => log.findIndex((l) => re.test(l));

function setSpec(name: string, f: (spec: Record<string, unknown>) => void): void {
  for (let i = 0; i < 5; i++) {
    const live = client.get(STS, NS, name);
    f(live['spec'] as Record<string, unknown>);
    try {
      client.update(STS, NS, live);
      return;
    } catch (e) {
      if (i === 4) throw e;
    }
  }
}

test('OrderedReady: pods created in order after the previous is Ready, PVCs first; identity', async () => {
  const rec = record();
  client.create(STS, NS, statefulSet('web', 3));
  const pods = await waitFor('3 ready pods', () => {
    const p = livePods('web');
    return p.length === 3 && p.every(isReady) && p;
  });
  rec.stop();
  const log = rec.log;
  // Each pod is created only once its predecessor is Ready, and after its claim.
  for (const [prev, next] of [
    ['web-0', 'web-1'],
    ['web-1', 'web-2'],
  ] as const) {
    const ready = firstMatch(log, new RegExp(`^MODIFIED pod/${prev}:ready$`));
    const added = firstIndex(log, `ADDED pod/${next}`);
    assert.ok(ready >= 0 && added > ready, `${next} created before ${prev} was ready:\n${log.join('\n')}`);
  }
  for (let i = 0; i < 3; i++) {
    const pvc = firstIndex(log, `ADDED pvc/data-web-${i}`);
    const pod = firstIndex(log, `ADDED pod/web-${i}`);
    assert.ok(pvc >= 0 && pvc < pod, `claim data-web-${i} not created before its pod:\n${log.join('\n')}`);
  }
  assert.deepEqual(
    pods.map((p) => p.metadata.name),
    ['web-0', 'web-1', 'web-2'],
  );
  const sts = client.get(STS, NS, 'web');
  for (const [i, p] of pods.entries()) {
    const spec = p['spec'] as NonNullable<Pod['spec']>;
    assert.equal(spec.hostname, `web-${i}`);
    assert.equal(spec.subdomain, 'web-svc');
    assert.equal(p.metadata.labels?.['statefulset.kubernetes.io/pod-name'], `web-${i}`);
    assert.equal(p.metadata.labels?.['apps.kubernetes.io/pod-index'], String(i));
    assert.equal(p.metadata.ownerReferences?.[0]?.uid, sts.metadata.uid);
    const vol = (spec.volumes ?? []).find((v) => v.name === 'data');
    assert.equal(vol?.persistentVolumeClaim?.claimName, `data-web-${i}`);
  }
  // Claims: labelled with the selector's matchLabels, Pending (no binder needed), no owner (Retain).
  for (let i = 0; i < 3; i++) {
    const pvc = client.get(PVCS, NS, `data-web-${i}`);
    assert.equal(pvc.metadata.labels?.['app'], 'web');
    assert.equal(pvc.metadata.ownerReferences, undefined);
  }
  const st = await waitFor('status', () => {
    const s = stsStatus('web');
    return s['readyReplicas'] === 3 && s['availableReplicas'] === 3 && s['currentReplicas'] === 3 && s;
  });
  assert.equal(st['replicas'], 3);
  assert.equal(st['updatedReplicas'], 3);
  assert.equal(st['observedGeneration'], 1);
  assert.equal(st['collisionCount'], 0);
  assert.match(String(st['currentRevision']), /^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
  assert.equal(st['currentRevision'], st['updateRevision']);
  for (const p of pods) assert.equal(p.metadata.labels?.['controller-revision-hash'], st['currentRevision']);
  const messages = client
    .list(EVENTS, NS)
    .items.filter((e) => (e['involvedObject'] as { name?: string }).name === 'web')
    .map((e) => `${String(e['reason'])}: ${String(e['message'])}`);
  assert.ok(
    messages.includes('SuccessfulCreate: create Pod web-0 in StatefulSet web successful'),
    messages.join('\n'),
  );
  assert.ok(
    messages.includes('SuccessfulCreate: create Claim data-web-0 Pod web-0 in StatefulSet web success'),
    messages.join('\n'),
  );

  // Scale down to 1: web-2 goes first, then web-1; the claims stay.
  const rec2 = record();
  setSpec('web', (s) => {
    s['replicas'] = 1;
  });
  await waitFor('1 pod', () => {
    const all = client.list(PODS, NS, { labelSelector: 'app=web' }).items;
    return all.length === 1 && all[0]!.metadata.name === 'web-0';
  });
  rec2.stop();
  const gone2 = firstMatch(rec2.log, /^DELETED pod\/web-2/);
  const del1 = firstMatch(rec2.log, /^(MODIFIED|DELETED) pod\/web-1/);
  assert.ok(gone2 >= 0 && del1 > gone2, `web-1 deleted before web-2 was gone:\n${rec2.log.join('\n')}`);
  assert.deepEqual(
    client
      .list(PVCS, NS)
      .items.map((c) => c.metadata.name)
      .filter((n) => n?.endsWith('web-0') || n?.endsWith('web-1') || n?.endsWith('web-2'))
      .sort(),
    ['data-web-0', 'data-web-1', 'data-web-2'],
  );
  const events = client
    .list(EVENTS, NS)
    .items.filter((e) => (e['involvedObject'] as { name?: string }).name === 'web')
    .map((e) => String(e['message']));
  assert.ok(events.includes('delete Pod web-2 in StatefulSet web successful'));
  await waitFor('status replicas 1', () => stsStatus('web')['replicas'] === 1);
  // Deleting the set keeps the claims too.
  client.delete(STS, NS, 'web');
  await waitFor('set gone', () => {
    try {
      client.get(STS, NS, 'web');
      return false;
    } catch {
      return true;
    }
  });
  assert.equal(client.list(PVCS, NS, { labelSelector: 'app=web' }).items.length, 3);
});

test('Parallel creates every pod without waiting; spec.ordinals.start is honoured', async () => {
  const rec = record();
  client.create(STS, NS, statefulSet('par', 3, { podManagementPolicy: 'Parallel', ordinals: { start: 5 } }));
  await waitFor('3 ready', () => {
    const p = livePods('par');
    return p.length === 3 && p.every(isReady);
  });
  rec.stop();
  assert.deepEqual(
    livePods('par').map((p) => p.metadata.name),
    ['par-5', 'par-6', 'par-7'],
  );
  const firstReady = firstMatch(rec.log, /^MODIFIED pod\/par-\d:ready$/);
  for (const n of ['par-5', 'par-6', 'par-7']) {
    const added = firstIndex(rec.log, `ADDED pod/${n}`);
    assert.ok(added >= 0 && added < firstReady, `${n} waited for readiness:\n${rec.log.join('\n')}`);
  }
  assert.ok(client.get(PVCS, NS, 'data-par-7'));
  client.delete(STS, NS, 'par');
});

test('RollingUpdate: reverse ordinal order down to the partition, then the rest; history and undo', async () => {
  client.create(
    STS,
    NS,
    statefulSet('db', 3, { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } }),
  );
  await waitFor('3 ready', () => {
    const p = livePods('db');
    return p.length === 3 && p.every(isReady);
  });
  const rev1 = await waitFor('revision 1', () => stsStatus('db')['currentRevision'] as string | undefined);
  const rec = record();
  setSpec('db', (s) => {
    const t = s['template'] as { spec: { containers: { image: string }[] } };
    t.spec.containers[0]!.image = 'registry.example/db:2';
  });
  const st = await waitFor('partitioned rollout', () => {
    const s = stsStatus('db');
    return s['updatedReplicas'] === 2 && s['readyReplicas'] === 3 && s['observedGeneration'] === 2 && s;
  });
  const rev2 = String(st['updateRevision']);
  assert.notEqual(rev2, rev1);
  assert.equal(st['currentRevision'], rev1);
  assert.equal(st['currentReplicas'], 1);
  const image = (p: KObject): string => (p['spec'] as NonNullable<Pod['spec']>).containers[0]!.image ?? '';
  let pods = livePods('db');
  assert.deepEqual(pods.map(image), [
    'registry.example/db:1',
    'registry.example/db:2',
    'registry.example/db:2',
  ]);
  assert.equal(pods[0]!.metadata.labels?.['controller-revision-hash'], rev1);
  assert.equal(pods[2]!.metadata.labels?.['controller-revision-hash'], rev2);
  const del2 = firstMatch(rec.log, /^MODIFIED pod\/db-2:deleting$|^DELETED pod\/db-2$/);
  const del1 = firstMatch(rec.log, /^MODIFIED pod\/db-1:deleting$|^DELETED pod\/db-1$/);
  assert.ok(del2 >= 0 && del1 > del2, `db-1 updated before db-2:\n${rec.log.join('\n')}`);
  assert.ok(!rec.log.some((l) => l.startsWith('DELETED pod/db-0')));
  rec.stop();

  // Partition 0: db-0 follows and the current revision becomes the update revision.
  setSpec('db', (s) => {
    (s['updateStrategy'] as { rollingUpdate: { partition: number } }).rollingUpdate.partition = 0;
  });
  await waitFor('rollout complete', () => {
    const s = stsStatus('db');
    return s['currentRevision'] === rev2 && s['updatedReplicas'] === 3 && s['currentReplicas'] === 3;
  });
  pods = livePods('db');
  assert.ok(pods.every((p) => image(p) === 'registry.example/db:2'));

  // History as `kubectl rollout history` reads it: revisions controlled by the set, selected by its labels.
  const revs = client.list(CR, NS, { labelSelector: 'app=db' }).items;
  const byName = new Map(revs.map((r) => [r.metadata.name, r]));
  assert.equal(byName.get(rev1)?.['revision'], 1);
  assert.equal(byName.get(rev2)?.['revision'], 2);
  const r1 = byName.get(rev1)!;
  assert.equal(r1.metadata.labels?.['controller-revision-hash'], rev1.slice('db-'.length));
  assert.equal(rev1, `db-${hashRevisionData(r1['data'], 0)}`);
  assert.equal(r1.metadata.ownerReferences?.[0]?.kind, 'StatefulSet');

  // kubectl rollout undo: apply revision 1's patch; that revision becomes number 3.
  client.patch(STS, NS, 'db', 'application/strategic-merge-patch+json', r1['data']);
  await waitFor('undo complete', () => {
    const s = stsStatus('db');
    return s['currentRevision'] === rev1 && s['updateRevision'] === rev1 && s['readyReplicas'] === 3;
  });
  assert.ok(livePods('db').every((p) => image(p) === 'registry.example/db:1'));
  const after = client.get(CR, NS, rev1);
  assert.equal(after['revision'], 3);
  assert.equal(
    (templateOfRevision(after).spec as { containers: { image: string }[] }).containers[0]!.image,
    'registry.example/db:1',
  );
  client.delete(STS, NS, 'db');
});

test('OnDelete: a new template reaches only pods deleted by hand', async () => {
  client.create(STS, NS, statefulSet('od', 2, { updateStrategy: { type: 'OnDelete' } }));
  await waitFor('2 ready', () => livePods('od').length === 2 && livePods('od').every(isReady));
  setSpec('od', (s) => {
    const t = s['template'] as { spec: { containers: { image: string }[] } };
    t.spec.containers[0]!.image = 'registry.example/db:2';
  });
  await waitFor('observed', () => stsStatus('od')['observedGeneration'] === 2);
  await new Promise((r) => setTimeout(r, 300));
  const image = (p: KObject): string => (p['spec'] as NonNullable<Pod['spec']>).containers[0]!.image ?? '';
  assert.ok(livePods('od').every((p) => image(p) === 'registry.example/db:1'));
  client.delete(PODS, NS, 'od-1');
  await waitFor('od-1 recreated with the new template', () => {
    const p = livePods('od').find((x) => x.metadata.name === 'od-1');
    return p && image(p) === 'registry.example/db:2' && isReady(p);
  });
  assert.equal(stsStatus('od')['updatedReplicas'], 1);
  client.delete(STS, NS, 'od');
});

test('persistentVolumeClaimRetentionPolicy whenDeleted Delete: claims owned by the set', async () => {
  client.create(
    STS,
    NS,
    statefulSet('tmp', 1, {
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' },
    }),
  );
  const sts = client.get(STS, NS, 'tmp');
  const pvc = await waitFor('claim', () => client.get(PVCS, NS, 'data-tmp-0'));
  assert.deepEqual(
    pvc.metadata.ownerReferences?.map((r) => [r.kind, r.name, r.uid]),
    [['StatefulSet', 'tmp', sts.metadata.uid]],
  );
  client.delete(STS, NS, 'tmp');
});

test('persistentVolumeClaimRetentionPolicy whenScaled Delete: a condemned pod owns its claims', async () => {
  client.create(
    STS,
    NS,
    statefulSet('shrink', 2, {
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Delete' },
    }),
  );
  await waitFor('2 ready', () => livePods('shrink').length === 2 && livePods('shrink').every(isReady));
  const pod1 = client.get(PODS, NS, 'shrink-1');
  setSpec('shrink', (s) => {
    s['replicas'] = 1;
  });
  await waitFor('claim of shrink-1 owned by its pod, or already collected', () => {
    try {
      const c = client.get(PVCS, NS, 'data-shrink-1');
      return (
        !!c.metadata.deletionTimestamp ||
        (c.metadata.ownerReferences ?? []).some((r) => r.kind === 'Pod' && r.uid === pod1.metadata.uid)
      );
    } catch {
      return true;
    }
  });
  // The claim of the remaining pod is not touched.
  assert.equal(client.get(PVCS, NS, 'data-shrink-0').metadata.ownerReferences, undefined);
  client.delete(STS, NS, 'shrink');
});
