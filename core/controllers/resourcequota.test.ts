import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../api/object.ts';
import { InProcessClient, type ResourceRef } from '../client/in-process.ts';
import { clusterFixture } from '../testing/cluster-fixture.ts';
import { waitFor } from '../testing/wait.ts';

const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
const RQ: ResourceRef = { group: '', version: 'v1', resource: 'resourcequotas' };
const CM: ResourceRef = { group: '', version: 'v1', resource: 'configmaps' };
const SVC: ResourceRef = { group: '', version: 'v1', resource: 'services' };
const PVC: ResourceRef = { group: '', version: 'v1', resource: 'persistentvolumeclaims' };

let client: InProcessClient;
const fx = clusterFixture(
  'berth-rq-',
  { disableScheduler: true },
  { ready: (f) => void (client = f.client) },
);
const namespace = (name: string): Promise<void> => fx.namespace(name);

function pod(
  ns: string,
  name: string,
  resources: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec: { containers: [{ name: 'app', image: 'nginx', resources }], ...extra },
  };
}

const used = (ns: string, name: string): Record<string, string> =>
  ((client.get(RQ, ns, name)['status'] ?? {}) as { used?: Record<string, string> }).used ?? {};

test('status.hard mirrors spec.hard and status.used counts pods, compute, objects, services and claims', async () => {
  const ns = 'rq-usage';
  await namespace(ns);
  client.create(
    PODS,
    ns,
    pod(ns, 'a', { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } }),
  );
  client.create(
    PODS,
    ns,
    pod(ns, 'b', { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '1', memory: '128Mi' } }),
  );
  client.create(CM, ns, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c1', namespace: ns } });
  client.create(SVC, ns, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 's1', namespace: ns },
    spec: {
      type: 'NodePort',
      ports: [
        { name: 'http', port: 80 },
        { name: 'https', port: 443 },
      ],
    },
  });
  client.create(PVC, ns, {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'data', namespace: ns },
    spec: {
      storageClassName: 'fast',
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '2Gi' } },
    },
  });
  client.create(RQ, ns, {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: { name: 'q', namespace: ns },
    spec: {
      hard: {
        pods: '10',
        'requests.cpu': '4',
        'requests.memory': '1Gi',
        'limits.cpu': '8',
        'limits.memory': '2Gi',
        configmaps: '5',
        'count/configmaps': '5',
        services: '3',
        'services.nodeports': '4',
        persistentvolumeclaims: '2',
        'requests.storage': '10Gi',
        'fast.storageclass.storage.k8s.io/requests.storage': '5Gi',
        resourcequotas: '1',
      },
    },
  });
  const u = await waitFor('quota status', () => {
    const x = used(ns, 'q');
    return x['pods'] === '2' ? x : undefined;
  });
  assert.equal(u['requests.cpu'], '500m');
  assert.equal(u['requests.memory'], '128Mi');
  assert.equal(u['limits.cpu'], '1500m');
  assert.equal(u['limits.memory'], '256Mi');
  assert.equal(u['services'], '1');
  assert.equal(u['services.nodeports'], '2');
  assert.equal(u['persistentvolumeclaims'], '1');
  assert.equal(u['requests.storage'], '2Gi');
  assert.equal(u['fast.storageclass.storage.k8s.io/requests.storage'], '2Gi');
  assert.equal(u['resourcequotas'], '1');
  assert.equal(u['configmaps'], u['count/configmaps']);
  const cms = client.list(CM, ns).items.length;
  assert.equal(u['configmaps'], String(cms));
  const st = client.get(RQ, ns, 'q')['status'] as { hard: Record<string, string> };
  assert.equal(st.hard['requests.memory'], '1Gi');
  assert.equal(Object.keys(st.hard).length, 13);
  assert.deepEqual(Object.keys(u).sort(), Object.keys(st.hard).sort());
});

test('terminal pods stop counting and deletions are replenished', async () => {
  const ns = 'rq-replenish';
  await namespace(ns);
  client.create(RQ, ns, {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: { name: 'q', namespace: ns },
    spec: { hard: { pods: '5', 'requests.cpu': '2', 'count/pods': '10' } },
  });
  await waitFor('initial status', () => used(ns, 'q')['pods'] === '0');
  client.create(PODS, ns, pod(ns, 'a', { requests: { cpu: '1' } }));
  client.create(PODS, ns, pod(ns, 'b', { requests: { cpu: '500m' } }));
  await waitFor('two pods', () => used(ns, 'q')['pods'] === '2' && used(ns, 'q')['requests.cpu'] === '1500m');
  const a = client.get(PODS, ns, 'a');
  client.update(PODS, ns, { ...a, status: { ...(a['status'] as object), phase: 'Succeeded' } }, 'status');
  await waitFor(
    'terminal pod released',
    () => used(ns, 'q')['pods'] === '1' && used(ns, 'q')['requests.cpu'] === '500m',
  );
  assert.equal(used(ns, 'q')['count/pods'], '2');
  client.delete(PODS, ns, 'b', { gracePeriodSeconds: 0 });
  client.delete(PODS, ns, 'a', { gracePeriodSeconds: 0 });
  await waitFor(
    'deleted pods released',
    () => used(ns, 'q')['count/pods'] === '0' && used(ns, 'q')['requests.cpu'] === '0',
  );
});

test('scopes: BestEffort and NotBestEffort, Terminating, PriorityClass scope selector', async () => {
  const ns = 'rq-scopes';
  await namespace(ns);
  const q = (name: string, spec: Record<string, unknown>) =>
    client.create(RQ, ns, {
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: { name, namespace: ns },
      spec,
    });
  q('be', { hard: { pods: '10' }, scopes: ['BestEffort'] });
  q('nbe', { hard: { pods: '10' }, scopes: ['NotBestEffort'] });
  q('term', { hard: { pods: '10' }, scopes: ['Terminating'] });
  q('high', {
    hard: { pods: '10' },
    scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In', values: ['high'] }] },
  });
  for (const n of ['be', 'nbe', 'term', 'high'])
    await waitFor(`status ${n}`, () => used(ns, n)['pods'] === '0');
  client.create(PODS, ns, pod(ns, 'besteffort', {}));
  client.create(PODS, ns, pod(ns, 'burst', { requests: { cpu: '100m' } }, { activeDeadlineSeconds: 60 }));
  await waitFor(
    'scoped usage',
    () =>
      used(ns, 'be')['pods'] === '1' && used(ns, 'nbe')['pods'] === '1' && used(ns, 'term')['pods'] === '1',
  );
  assert.equal(used(ns, 'high')['pods'], '0');
});
