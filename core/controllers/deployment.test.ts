import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KObject } from '../api/object.ts';
import { InProcessClient, type ResourceRef } from '../client/in-process.ts';
import { startCluster, type RunningCluster } from '../cluster/cluster.ts';
import { computeHash, resolveFenceposts, equalIgnoreHash } from './deployment.ts';
import { waitFor } from '../testing/wait.ts';

const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
const RS: ResourceRef = { group: 'apps', version: 'v1', resource: 'replicasets' };
const DEPLOY: ResourceRef = { group: 'apps', version: 'v1', resource: 'deployments' };
const SA: ResourceRef = { group: '', version: 'v1', resource: 'serviceaccounts' };
const NS = 'default';

let dir: string;
let cluster: RunningCluster;
let client: InProcessClient;
let kubelet: NodeJS.Timeout | undefined;
/** Pods the fake kubelet marks Ready (by label app). */
const readyApps = new Set<string>();

const isReady = (p: KObject): boolean =>
  ((p['status'] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []).some(
    (c) => c.type === 'Ready' && c.status === 'True',
  );

function markReady(pod: KObject): void {
  const t = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  client.update(
    PODS,
    NS,
    {
      ...pod,
      status: {
        ...((pod['status'] ?? {}) as object),
        phase: 'Running',
        conditions: [
          { type: 'Ready', status: 'True', lastTransitionTime: t },
          { type: 'ContainersReady', status: 'True', lastTransitionTime: t },
        ],
      },
    },
    'status',
  );
}

/** What a kubelet would do: pods of the chosen apps become Running and Ready. */
function kubeletTick(): void {
  for (const p of client.list(PODS, NS).items) {
    if (p.metadata.deletionTimestamp || isReady(p)) continue;
    if (!readyApps.has(p.metadata.labels?.['app'] ?? '')) continue;
    try {
      markReady(p);
    } catch {
      /* raced with a delete */
    }
  }
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-deploy-'));
  cluster = await startCluster({ dataDir: dir, apiPort: 0 });
  client = new InProcessClient(cluster.server, {
    username: 'system:kube-controller-manager',
    groups: ['system:authenticated'],
  });
  await waitFor('default service account', () => client.get(SA, NS, 'default'));
  kubelet = setInterval(kubeletTick, 15);
});

after(async () => {
  if (kubelet) clearInterval(kubelet);
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
});

function deployment(
  name: string,
  replicas: number,
  image: string,
  extra: Record<string, unknown> = {},
): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image }] } },
      ...extra,
    },
  };
}

const rev = (o: KObject): string | undefined => o.metadata.annotations?.['deployment.kubernetes.io/revision'];
const rsOf = (d: string): KObject[] =>
  client.list(RS, NS, { labelSelector: `app=${d}` }).items.sort((a, b) => Number(rev(a)) - Number(rev(b)));
const spec = (o: KObject): Record<string, unknown> => (o['spec'] ?? {}) as Record<string, unknown>;
const status = (o: KObject): Record<string, unknown> => (o['status'] ?? {}) as Record<string, unknown>;
const cond = (d: KObject, type: string): { status: string; reason: string } | undefined =>
  ((status(d)['conditions'] ?? []) as { type: string; status: string; reason: string }[]).find(
    (c) => c.type === type,
  );

/** kubectl rollout status' completion test (polymorphichelpers/rollout_status.go). */
function rolloutDone(name: string): boolean {
  const d = client.get(DEPLOY, NS, name);
  const st = status(d);
  const n = (k: string): number => (st[k] as number | undefined) ?? 0;
  return (
    (d.metadata.generation ?? 0) <= n('observedGeneration') &&
    n('updatedReplicas') >= (spec(d)['replicas'] as number) &&
    n('replicas') === n('updatedReplicas') &&
    n('availableReplicas') >= n('updatedReplicas')
  );
}

function setImage(name: string, image: string, annotations?: Record<string, string>): void {
  const d = client.get(DEPLOY, NS, name);
  const t = spec(d)['template'] as { spec: { containers: { image: string }[] } };
  t.spec.containers[0]!.image = image;
  if (annotations) d.metadata.annotations = { ...(d.metadata.annotations ?? {}), ...annotations };
  client.update(DEPLOY, NS, d);
}

function patchSpec(name: string, patch: Record<string, unknown>): void {
  const d = client.get(DEPLOY, NS, name);
  client.update(DEPLOY, NS, { ...d, spec: { ...spec(d), ...patch } });
}

test('helpers: fenceposts round surge up and unavailable down; hash is stable and ignores the hash label', () => {
  assert.deepEqual(resolveFenceposts('25%', '25%', 3), [1, 0]);
  assert.deepEqual(resolveFenceposts('25%', '25%', 10), [3, 2]);
  assert.deepEqual(resolveFenceposts(0, 0, 5), [0, 1]);
  assert.deepEqual(resolveFenceposts(2, '50%', 5), [2, 2]);
  const t = { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'a' }] } };
  const h = computeHash(t);
  assert.match(h, /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
  assert.equal(computeHash(JSON.parse(JSON.stringify(t)) as typeof t), h);
  assert.equal(computeHash({ ...t, metadata: { labels: { app: 'x', 'pod-template-hash': h } } }), h);
  assert.notEqual(computeHash(t, 1), h);
  assert.ok(equalIgnoreHash(t, { ...t, metadata: { labels: { app: 'x', 'pod-template-hash': 'zzz' } } }));
});

test('rolling update: RS revision 1, then a new template → revision 2, never below minAvailable', async () => {
  readyApps.add('web');
  const d = client.create(
    DEPLOY,
    NS,
    deployment('web', 3, 'nginx:1', {
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    }),
  );
  const [rs1] = await waitFor('first RS', () => {
    const l = rsOf('web');
    return l.length === 1 && l;
  });
  const hash = rs1!.metadata.labels?.['pod-template-hash'];
  assert.ok(hash);
  assert.equal(rs1!.metadata.name, `web-${hash}`);
  assert.equal(rev(rs1!), '1');
  assert.deepEqual((spec(rs1!)['selector'] as { matchLabels: unknown }).matchLabels, {
    app: 'web',
    'pod-template-hash': hash,
  });
  const oref = rs1!.metadata.ownerReferences?.[0];
  assert.equal(oref?.uid, d.metadata.uid);
  assert.equal(oref?.controller, true);
  assert.equal(oref?.blockOwnerDeletion, true);
  assert.equal(rs1!.metadata.annotations?.['deployment.kubernetes.io/desired-replicas'], '3');
  assert.equal(rs1!.metadata.annotations?.['deployment.kubernetes.io/max-replicas'], '4');
  await waitFor('rollout 1 done', () => rolloutDone('web'));
  const d1 = client.get(DEPLOY, NS, 'web');
  assert.equal(rev(d1), '1');
  assert.equal(cond(d1, 'Available')?.status, 'True');
  await waitFor(
    'NewReplicaSetAvailable',
    () => cond(client.get(DEPLOY, NS, 'web'), 'Progressing')?.reason === 'NewReplicaSetAvailable',
  );

  // Observe ready pods of the deployment through a watch while rolling.
  const ready = new Map<string, boolean>();
  let minReady = Infinity;
  let replayed = false;
  let events = 0;
  const w = client.watch(PODS, NS, { labelSelector: 'app=web' }, (type, p) => {
    const name = p.metadata.name ?? '';
    if (type === 'DELETED' || p.metadata.deletionTimestamp) ready.delete(name);
    else ready.set(name, isReady(p));
    events++;
    // After the synthetic ADDED of the current pods, every event must leave ≥ 3 ready pods.
    if (replayed) minReady = Math.min(minReady, [...ready.values()].filter(Boolean).length);
  });
  replayed = true;
  assert.equal([...ready.values()].filter(Boolean).length, 3);
  try {
    setImage('web', 'nginx:2', { 'kubernetes.io/change-cause': 'image 2' });
    await waitFor(
      'rollout 2 done',
      () => rolloutDone('web') && rsOf('web').length === 2 && spec(rsOf('web')[0]!)['replicas'] === 0,
      10000,
    );
  } finally {
    w.stop();
  }
  assert.ok(events > 6, 'the rollout was observed');
  assert.ok(minReady >= 3, `ready pods dropped to ${minReady}`);
  const [old, cur] = rsOf('web');
  assert.equal(rev(old!), '1');
  assert.equal(rev(cur!), '2');
  assert.equal(cur!.metadata.annotations?.['kubernetes.io/change-cause'], 'image 2');
  assert.equal(spec(cur!)['replicas'], 3);
  assert.equal(rev(client.get(DEPLOY, NS, 'web')), '2');
  await waitFor('status after rollout', () => {
    const st = status(client.get(DEPLOY, NS, 'web'));
    return (
      st['replicas'] === 3 &&
      st['updatedReplicas'] === 3 &&
      st['availableReplicas'] === 3 &&
      st['unavailableReplicas'] === undefined
    );
  });

  // Back to the first template: the old RS becomes revision 3 with revision-history 1.
  setImage('web', 'nginx:1');
  await waitFor(
    'rollback done',
    () => {
      const l = rsOf('web');
      return (
        rolloutDone('web') &&
        l.length === 2 &&
        rev(l[1]!) === '3' &&
        spec(l[1]!)['replicas'] === 3 &&
        spec(l[0]!)['replicas'] === 0
      );
    },
    10000,
  );
  const back = rsOf('web')[1]!;
  assert.equal(back.metadata.name, rs1!.metadata.name);
  assert.equal(back.metadata.annotations?.['deployment.kubernetes.io/revision-history'], '1');
  assert.equal(rev(client.get(DEPLOY, NS, 'web')), '3');
});

test('scaling a deployment scales its ReplicaSet', async () => {
  patchSpec('web', { replicas: 5 });
  await waitFor('5 replicas', () => {
    const l = rsOf('web');
    return (
      rolloutDone('web') &&
      spec(l[1]!)['replicas'] === 5 &&
      l[1]!.metadata.annotations?.['deployment.kubernetes.io/desired-replicas'] === '5'
    );
  });
});

test('Recreate: old pods are all gone before the new ReplicaSet scales up', async () => {
  readyApps.add('rec');
  client.create(DEPLOY, NS, deployment('rec', 2, 'nginx:1', { strategy: { type: 'Recreate' } }));
  await waitFor('rec rollout 1', () => rolloutDone('rec') && rsOf('rec').length === 1);
  const oldHash = rsOf('rec')[0]!.metadata.labels?.['pod-template-hash'];
  const violations: string[] = [];
  let newPods = 0;
  const w = client.watch(PODS, NS, { labelSelector: 'app=rec' }, (type, p) => {
    if (type === 'ADDED' && p.metadata.labels?.['pod-template-hash'] !== oldHash) {
      newPods++;
      const others = client.list(PODS, NS, { labelSelector: `app=rec,pod-template-hash=${oldHash}` }).items;
      if (others.length)
        violations.push(`${p.metadata.name ?? ''} created while ${others.length} old pods exist`);
    }
  });
  try {
    setImage('rec', 'nginx:2');
    await waitFor(
      'rec rollout 2',
      () => rolloutDone('rec') && rsOf('rec').length === 2 && rev(client.get(DEPLOY, NS, 'rec')) === '2',
      10000,
    );
  } finally {
    w.stop();
  }
  assert.equal(newPods, 2);
  assert.deepEqual(violations, []);
  assert.equal(spec(rsOf('rec')[0]!)['replicas'], 0);
});

test('paused: template changes make no ReplicaSet until resumed, then exactly one', async () => {
  readyApps.add('pz');
  client.create(DEPLOY, NS, deployment('pz', 2, 'nginx:1'));
  await waitFor('pz rollout 1', () => rolloutDone('pz'));
  patchSpec('pz', { paused: true });
  await waitFor(
    'paused condition',
    () => cond(client.get(DEPLOY, NS, 'pz'), 'Progressing')?.reason === 'DeploymentPaused',
  );
  setImage('pz', 'nginx:2');
  setImage('pz', 'nginx:3');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(rsOf('pz').length, 1);
  patchSpec('pz', { paused: false });
  await waitFor('resumed rollout', () => rolloutDone('pz') && rsOf('pz').length === 2, 10000);
  const l = rsOf('pz');
  assert.equal(rev(l[1]!), '2');
  const img = (spec(l[1]!)['template'] as { spec: { containers: { image: string }[] } }).spec.containers[0]!
    .image;
  assert.equal(img, 'nginx:3');
});

test('revisionHistoryLimit removes old zero-replica ReplicaSets', async () => {
  readyApps.add('hist');
  client.create(DEPLOY, NS, deployment('hist', 1, 'nginx:1', { revisionHistoryLimit: 1 }));
  await waitFor('hist 1', () => rolloutDone('hist'));
  setImage('hist', 'nginx:2');
  await waitFor('hist 2', () => rolloutDone('hist') && rev(client.get(DEPLOY, NS, 'hist')) === '2');
  setImage('hist', 'nginx:3');
  await waitFor('hist 3 and cleanup', () => {
    const l = rsOf('hist');
    return rolloutDone('hist') && l.length === 2 && rev(l[0]!) === '2' && rev(l[1]!) === '3';
  });
});

test('progressDeadlineSeconds: no progress → ProgressDeadlineExceeded', async () => {
  client.create(DEPLOY, NS, deployment('stuck', 1, 'nginx:1', { progressDeadlineSeconds: 1 }));
  await waitFor(
    'deadline exceeded',
    () => {
      const c = cond(client.get(DEPLOY, NS, 'stuck'), 'Progressing');
      return c?.status === 'False' && c.reason === 'ProgressDeadlineExceeded';
    },
    5000,
  );
  assert.equal(cond(client.get(DEPLOY, NS, 'stuck'), 'Available')?.status, 'False');
});
