import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rfc3339, type KObject } from '../api/object.ts';
import { InProcessClient, type ResourceRef } from '../client/in-process.ts';
import { SharedInformerFactory } from '../client/informer.ts';
import { startCluster, type RunningCluster } from '../cluster/cluster.ts';
import type { PdbStatus } from '../registry/policy/pdb-status.ts';
import { DELETION_TIMEOUT_MS, DisruptionController } from './disruption.ts';
import { waitFor } from '../testing/wait.ts';

const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
const RS: ResourceRef = { group: 'apps', version: 'v1', resource: 'replicasets' };
const DEPLOYMENTS: ResourceRef = { group: 'apps', version: 'v1', resource: 'deployments' };
const PDBS: ResourceRef = { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' };
const EVENTS: ResourceRef = { group: '', version: 'v1', resource: 'events' };
const SA: ResourceRef = { group: '', version: 'v1', resource: 'serviceaccounts' };
const NS = 'default';

let dir: string;
let cluster: RunningCluster;
let client: InProcessClient;
let factory: SharedInformerFactory;
let dc: DisruptionController;
/** The controller's clock: real time plus a test-controlled offset. */
let offsetMs = 0;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-pdb-'));
  // The cluster's own disruption controller is off: this test runs one with a clock it controls. The
  // garbage collector is off too, so that a pod with a dangling controller reference stays.
  cluster = await startCluster({
    dataDir: dir,
    apiPort: 0,
    disableControllers: ['disruption', 'garbagecollector'],
  });
  client = new InProcessClient(cluster.server, {
    username: 'system:kube-controller-manager',
    groups: ['system:authenticated'],
  });
  await waitFor('default service account', () => client.get(SA, NS, 'default'));
  factory = new SharedInformerFactory(client);
  dc = new DisruptionController(client, factory, {
    now: () => Date.now() + offsetMs,
    stalePodDisruptionTimeoutMs: 1000,
  });
  factory.start();
  dc.start();
});

after(async () => {
  await dc.stop();
  factory.stop();
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
});

const status = (name: string): Partial<PdbStatus> =>
  (client.get(PDBS, NS, name)['status'] ?? {}) as Partial<PdbStatus>;

/** Waits until the PDB's status has the wanted fields (and reports the last status on timeout). */
async function statusIs(name: string, want: Partial<PdbStatus>): Promise<Partial<PdbStatus>> {
  let last: Partial<PdbStatus> = {};
  try {
    return await waitFor(`${name} status ${JSON.stringify(want)}`, () => {
      last = status(name);
      return (
        Object.entries(want).every(
          ([k, v]) => JSON.stringify(last[k as keyof PdbStatus]) === JSON.stringify(v),
        ) && last
      );
    });
  } catch (e) {
    throw new Error(`${(e as Error).message}; last status ${JSON.stringify(last)}`, { cause: e });
  }
}

function pdb(name: string, spec: Record<string, unknown>): KObject {
  return { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name, namespace: NS }, spec };
}

function bare(
  name: string,
  labels: Record<string, string>,
  ownerReferences?: NonNullable<KObject['metadata']['ownerReferences']>,
): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels, ...(ownerReferences ? { ownerReferences } : {}) },
    spec: { containers: [{ name: 'c', image: 'nginx' }] },
  };
}

/** An apps/v1 ReplicaSet or Deployment of nginx pods. */
function workload(kind: string, name: string, replicas: number, labels: Record<string, string>): KObject {
  return {
    apiVersion: 'apps/v1',
    kind,
    metadata: { name, namespace: NS },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
    },
  };
}

/** What a kubelet would write: Running, Ready or not, plus extra conditions. */
function setPodStatus(name: string, ready: boolean, extra: Record<string, unknown>[] = []): void {
  const live = client.get(PODS, NS, name);
  const t = rfc3339();
  client.update(
    PODS,
    NS,
    {
      ...live,
      status: {
        phase: 'Running',
        conditions: [
          { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: t },
          { type: 'PodScheduled', status: 'True', lastTransitionTime: t },
          ...extra,
        ],
      },
    },
    'status',
  );
}

test('minAvailable as an integer: expected = the pods, only Ready pods count as healthy', async () => {
  for (const n of ['int-1', 'int-2', 'int-3']) client.create(PODS, NS, bare(n, { app: 'int' }));
  setPodStatus('int-1', true);
  setPodStatus('int-2', true);
  setPodStatus('int-3', false);
  client.create(PDBS, NS, pdb('int', { minAvailable: 1, selector: { matchLabels: { app: 'int' } } }));
  const st = await statusIs('int', {
    expectedPods: 3,
    desiredHealthy: 1,
    currentHealthy: 2,
    disruptionsAllowed: 1,
    observedGeneration: 1,
  });
  const cond = st.conditions?.find((c) => c.type === 'DisruptionAllowed');
  assert.equal(cond?.status, 'True');
  assert.equal(cond?.reason, 'SufficientPods');
  assert.equal(cond?.message, '');
  assert.equal(st.disruptedPods, undefined);

  // A pod turning Ready resyncs the budget; lastTransitionTime stays while the status stays True.
  setPodStatus('int-3', true);
  const st2 = await statusIs('int', { currentHealthy: 3, disruptionsAllowed: 2 });
  assert.equal(
    st2.conditions?.find((c) => c.type === 'DisruptionAllowed')?.lastTransitionTime,
    cond?.lastTransitionTime,
  );
  // Raising minAvailable (a spec change: generation 2) leaves no disruption allowed.
  const live = client.get(PDBS, NS, 'int');
  client.update(PDBS, NS, { ...live, spec: { ...(live['spec'] as object), minAvailable: 3 } });
  const st3 = await statusIs('int', { observedGeneration: 2, desiredHealthy: 3, disruptionsAllowed: 0 });
  const c3 = st3.conditions?.find((c) => c.type === 'DisruptionAllowed');
  assert.equal(c3?.status, 'False');
  assert.equal(c3?.reason, 'InsufficientPods');
  assert.equal(c3?.observedGeneration, 2);
  // A deleted pod no longer counts.
  client.delete(PODS, NS, 'int-1');
  await statusIs('int', { expectedPods: 2, currentHealthy: 2, disruptionsAllowed: 0 });
});

test('maxUnavailable 25% of a ReplicaSet of 4: desiredHealthy 3', async () => {
  const labels = { app: 'rs4' };
  client.create(RS, NS, workload('ReplicaSet', 'rs4', 4, labels));
  const pods = await waitFor('4 pods', () => {
    const p = client.list(PODS, NS, { labelSelector: 'app=rs4' }).items;
    return p.length === 4 && p;
  });
  client.create(PDBS, NS, pdb('rs4', { maxUnavailable: '25%', selector: { matchLabels: labels } }));
  // Not Ready yet: nothing healthy.
  await statusIs('rs4', { expectedPods: 4, desiredHealthy: 3, currentHealthy: 0, disruptionsAllowed: 0 });
  for (const p of pods) setPodStatus(p.metadata.name ?? '', true);
  await statusIs('rs4', { expectedPods: 4, desiredHealthy: 3, currentHealthy: 4, disruptionsAllowed: 1 });
  // minAvailable as a percentage also counts the controllers' scale (ceil(50% × 4) = 2).
  const live = client.get(PDBS, NS, 'rs4');
  client.update(PDBS, NS, {
    ...live,
    spec: { minAvailable: '50%', selector: { matchLabels: labels } },
  });
  await statusIs('rs4', { observedGeneration: 2, expectedPods: 4, desiredHealthy: 2, disruptionsAllowed: 2 });
  // Scaling the ReplicaSet changes the expected count.
  const rs = client.get(RS, NS, 'rs4');
  client.update(RS, NS, { ...rs, spec: { ...(rs['spec'] as object), replicas: 6 } });
  await statusIs('rs4', { expectedPods: 6, desiredHealthy: 3, currentHealthy: 4, disruptionsAllowed: 1 });
});

test("a Deployment's pods count the Deployment's replicas", async () => {
  const labels = { app: 'dep' };
  client.create(DEPLOYMENTS, NS, workload('Deployment', 'dep', 2, labels));
  await waitFor('2 pods', () => client.list(PODS, NS, { labelSelector: 'app=dep' }).items.length === 2);
  client.create(PDBS, NS, pdb('dep', { maxUnavailable: '50%', selector: { matchLabels: labels } }));
  await statusIs('dep', { expectedPods: 2, desiredHealthy: 1, currentHealthy: 0, disruptionsAllowed: 0 });
  const d = client.get(DEPLOYMENTS, NS, 'dep');
  client.update(DEPLOYMENTS, NS, { ...d, spec: { ...(d['spec'] as object), replicas: 4 } });
  await statusIs('dep', { expectedPods: 4, desiredHealthy: 2 });
});

test('percentages with pods without a controller: UnmanagedPods event; a dangling controller ref fails the sync', async () => {
  client.create(PODS, NS, bare('lone', { app: 'lone' }));
  setPodStatus('lone', true);
  client.create(PDBS, NS, pdb('lone', { maxUnavailable: 1, selector: { matchLabels: { app: 'lone' } } }));
  await statusIs('lone', { expectedPods: 0, desiredHealthy: 0, currentHealthy: 1, disruptionsAllowed: 0 });
  await waitFor('UnmanagedPods event', () =>
    client
      .list(EVENTS, NS)
      .items.some(
        (e) =>
          e['reason'] === 'UnmanagedPods' &&
          (e['involvedObject'] as { name?: string }).name === 'lone' &&
          /were found to be unmanaged/.test(String(e['message'])),
      ),
  );

  client.create(
    PODS,
    NS,
    bare('orphan', { app: 'gone' }, [
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'nope', uid: 'no-such-uid', controller: true },
    ]),
  );
  setPodStatus('orphan', true);
  client.create(PDBS, NS, pdb('gone', { minAvailable: '50%', selector: { matchLabels: { app: 'gone' } } }));
  const st = await waitFor('SyncFailed', () => {
    const s = status('gone');
    return s.conditions?.some((c) => c.reason === 'SyncFailed') && s;
  });
  const c = st.conditions?.find((x) => x.type === 'DisruptionAllowed');
  assert.equal(c?.status, 'False');
  assert.equal(c?.message, 'found no controllers for pod "orphan"');
  assert.equal(st.disruptionsAllowed, 0);
  // An integer minAvailable needs no controller: the budget recovers on the spec change.
  const live = client.get(PDBS, NS, 'gone');
  client.update(PDBS, NS, { ...live, spec: { minAvailable: 0, selector: { matchLabels: { app: 'gone' } } } });
  const ok = await statusIs('gone', { observedGeneration: 2, currentHealthy: 1, disruptionsAllowed: 1 });
  assert.equal(ok.conditions?.find((x) => x.type === 'DisruptionAllowed')?.reason, 'SufficientPods');
});

test('disruptedPods: an evicted pod does not count until its entry expires (DeletionTimeout)', async () => {
  for (const n of ['dis-1', 'dis-2']) {
    client.create(PODS, NS, bare(n, { app: 'dis' }));
    setPodStatus(n, true);
  }
  client.create(PDBS, NS, pdb('dis', { minAvailable: 1, selector: { matchLabels: { app: 'dis' } } }));
  await statusIs('dis', { currentHealthy: 2, disruptionsAllowed: 1 });
  // What the eviction subresource writes: one disruption consumed, the pod recorded (plus an entry
  // for a pod that does not exist, which the controller drops).
  const at = rfc3339(new Date(Date.now() + offsetMs));
  const live = client.get(PDBS, NS, 'dis');
  client.update(
    PDBS,
    NS,
    {
      ...live,
      status: { ...status('dis'), disruptionsAllowed: 0, disruptedPods: { 'dis-1': at, ghost: at } },
    },
    'status',
  );
  await statusIs('dis', { currentHealthy: 1, disruptionsAllowed: 0, disruptedPods: { 'dis-1': at } });
  // The controller comes back when the entry expires.
  const r = dc.sync(`${NS}/dis`);
  assert.ok(r && r.requeueAfterMs !== undefined, 'a recheck is scheduled');
  assert.ok(r.requeueAfterMs > DELETION_TIMEOUT_MS - 10_000 && r.requeueAfterMs <= DELETION_TIMEOUT_MS);
  // Two minutes later the pod was not deleted: the entry goes and the pod counts again.
  offsetMs += DELETION_TIMEOUT_MS + 1000;
  try {
    assert.equal(dc.sync(`${NS}/dis`), undefined);
    const st = await statusIs('dis', { currentHealthy: 2, disruptionsAllowed: 1 });
    assert.equal(st.disruptedPods, undefined);
  } finally {
    offsetMs -= DELETION_TIMEOUT_MS + 1000;
  }
  await waitFor('NotDeleted event', () =>
    client
      .list(EVENTS, NS)
      .items.some(
        (e) => e['reason'] === 'NotDeleted' && (e['involvedObject'] as { name?: string }).name === 'dis-1',
      ),
  );
});

test('an empty selector selects every pod of the namespace, a missing one none', async () => {
  client.create(PDBS, NS, pdb('all', { minAvailable: 0, selector: {} }));
  client.create(PDBS, NS, pdb('none', { minAvailable: 0 }));
  const all = client.list(PODS, NS).items.filter((p) => !p.metadata.deletionTimestamp).length;
  assert.ok(all > 0);
  await statusIs('all', { expectedPods: all, observedGeneration: 1 });
  await statusIs('none', {
    expectedPods: 0,
    currentHealthy: 0,
    disruptionsAllowed: 0,
    observedGeneration: 1,
  });
  client.delete(PDBS, NS, 'all');
  client.delete(PDBS, NS, 'none');
});

test('a DisruptionTarget condition left on a pod that is not deleted is reset to False', async () => {
  client.create(PODS, NS, bare('stale', { app: 'stale' }));
  setPodStatus('stale', true, [
    {
      type: 'DisruptionTarget',
      status: 'True',
      reason: 'EvictionByEvictionAPI',
      message: 'Eviction API: evicting',
      lastTransitionTime: rfc3339(),
    },
  ]);
  const cond = (): Record<string, unknown> | undefined =>
    (
      (client.get(PODS, NS, 'stale')['status'] as { conditions?: Record<string, unknown>[] }).conditions ?? []
    ).find((c) => c['type'] === 'DisruptionTarget');
  assert.equal(cond()?.['status'], 'True');
  // The test's stale timeout is 1 s.
  await waitFor('condition False', () => cond()?.['status'] === 'False', 10_000);
  assert.equal(cond()?.['reason'], undefined);
});
