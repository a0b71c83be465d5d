import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { StatusError } from '../../api/status.ts';
import { InProcessClient, type ResourceRef } from '../../client/in-process.ts';
import { clusterFixture } from '../../testing/cluster-fixture.ts';
import { podConstraints, podUsage, prettyPrint, serviceUsage } from './resource-quota.ts';
import { waitFor } from '../../testing/wait.ts';

const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
const RQ: ResourceRef = { group: '', version: 'v1', resource: 'resourcequotas' };
const CM: ResourceRef = { group: '', version: 'v1', resource: 'configmaps' };

let client: InProcessClient;
const fx = clusterFixture(
  'berth-rqa-',
  { disableScheduler: true },
  { ready: (f) => void (client = f.client) },
);
const namespace = (name: string): Promise<void> => fx.namespace(name);

function pod(ns: string, name: string, resources: Record<string, unknown>): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec: { containers: [{ name: 'app', image: 'nginx', resources }] },
  };
}

async function quota(ns: string, name: string, hard: Record<string, string>): Promise<void> {
  client.create(RQ, ns, {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: { name, namespace: ns },
    spec: { hard },
  });
  await waitFor('quota status', () => {
    const st = (client.get(RQ, ns, name)['status'] ?? {}) as { used?: Record<string, string> };
    return Object.keys(st.used ?? {}).length === Object.keys(hard).length;
  });
}

function refusal(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (e) {
    if (e instanceof StatusError) return e;
    throw e;
  }
  assert.fail('expected the write to be refused');
}

const used = (ns: string, name: string): Record<string, string> =>
  ((client.get(RQ, ns, name)['status'] ?? {}) as { used?: Record<string, string> }).used ?? {};

test('a pod over quota is refused with the exact message; usage is charged at admission', async () => {
  const ns = 'rqa-exceed';
  await namespace(ns);
  await quota(ns, 'q', { 'requests.cpu': '2', 'requests.memory': '1Gi' });
  client.create(PODS, ns, pod(ns, 'one', { requests: { cpu: '1', memory: '256Mi' } }));
  // Charged synchronously by admission (no wait for the controller).
  assert.equal(used(ns, 'q')['requests.cpu'], '1');
  assert.equal(used(ns, 'q')['requests.memory'], '256Mi');
  const e = refusal(() =>
    client.create(PODS, ns, pod(ns, 'two', { requests: { cpu: '2', memory: '256Mi' } })),
  );
  assert.equal(e.code, 403);
  assert.equal(e.status.reason, 'Forbidden');
  assert.equal(
    e.message,
    'pods "two" is forbidden: exceeded quota: q, requested: requests.cpu=2, used: requests.cpu=1, limited: requests.cpu=2',
  );
  // Two creates back to back: the first charge is seen by the second.
  client.create(PODS, ns, pod(ns, 'three', { requests: { cpu: '600m', memory: '1Mi' } }));
  const e2 = refusal(() =>
    client.create(PODS, ns, pod(ns, 'four', { requests: { cpu: '600m', memory: '1Mi' } })),
  );
  assert.match(
    e2.message,
    /exceeded quota: q, requested: requests.cpu=600m, used: requests.cpu=1600m, limited: requests.cpu=2$/,
  );
  // Several resources exceeded at once are listed sorted, comma separated.
  const e3 = refusal(() =>
    client.create(PODS, ns, pod(ns, 'five', { requests: { cpu: '3', memory: '2Gi' } })),
  );
  assert.equal(
    e3.message,
    'pods "five" is forbidden: exceeded quota: q, requested: requests.cpu=3,requests.memory=2Gi, used: requests.cpu=1600m,requests.memory=257Mi, limited: requests.cpu=2,requests.memory=1Gi',
  );
});

test('a quota on limits requires every container to set them', async () => {
  const ns = 'rqa-limits';
  await namespace(ns);
  await quota(ns, 'compute', { 'limits.cpu': '4', 'limits.memory': '4Gi' });
  const e = refusal(() => client.create(PODS, ns, pod(ns, 'p', { limits: { memory: '1Gi' } })));
  assert.equal(e.code, 403);
  assert.equal(e.message, 'pods "p" is forbidden: failed quota: compute: must specify limits.cpu for: app');
  const e2 = refusal(() => client.create(PODS, ns, pod(ns, 'p', {})));
  assert.equal(
    e2.message,
    'pods "p" is forbidden: failed quota: compute: must specify limits.cpu for: app; limits.memory for: app',
  );
  client.create(PODS, ns, pod(ns, 'ok', { limits: { cpu: '1', memory: '1Gi' } }));
  assert.equal(used(ns, 'compute')['limits.cpu'], '1');
});

test('object counts: a namespace without quota has no limits; count/configmaps refuses the extra one', async () => {
  const ns = 'rqa-count';
  await namespace(ns);
  for (let i = 0; i < 5; i++)
    client.create(CM, ns, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `free-${i}`, namespace: ns },
    });
  const have = client.list(CM, ns).items.length;
  await quota(ns, 'objs', { 'count/configmaps': String(have + 1) });
  client.create(CM, ns, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'last', namespace: ns } });
  const e = refusal(() =>
    client.create(CM, ns, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'extra', namespace: ns },
    }),
  );
  assert.equal(
    e.message,
    `configmaps "extra" is forbidden: exceeded quota: objs, requested: count/configmaps=1, used: count/configmaps=${have + 1}, limited: count/configmaps=${have + 1}`,
  );
});

test('evaluators: usage and constraints', () => {
  const p: KObject = {
    metadata: { name: 'p' },
    spec: {
      containers: [
        { name: 'a', resources: { requests: { cpu: '100m', memory: '1Gi' }, limits: { cpu: '200m' } } },
        { name: 'b', resources: { requests: { cpu: '300m', memory: '1Gi' } } },
      ],
      initContainers: [{ name: 'i', resources: { requests: { cpu: '1' } } }],
    },
  };
  assert.equal(
    prettyPrint(podUsage(p)),
    'count/pods=1,cpu=1,limits.cpu=200m,memory=2Gi,pods=1,requests.cpu=1,requests.memory=2Gi',
  );
  assert.equal(prettyPrint(podUsage({ ...p, status: { phase: 'Failed' } })), 'count/pods=1');
  assert.equal(podConstraints(['limits.cpu', 'pods'], p), 'must specify limits.cpu for: b,i');
  assert.equal(
    prettyPrint(serviceUsage({ metadata: {}, spec: { type: 'LoadBalancer', ports: [{ port: 1 }] } })),
    'count/services=1,services=1,services.loadbalancers=1,services.nodeports=1',
  );
});

test('claims and services: storage per class, and an update that adds node ports is charged', async () => {
  const ns = 'rqa-storage';
  await namespace(ns);
  await quota(ns, 'st', {
    'requests.storage': '10Gi',
    'gold.storageclass.storage.k8s.io/requests.storage': '3Gi',
    'services.nodeports': '1',
  });
  const PVC: ResourceRef = { group: '', version: 'v1', resource: 'persistentvolumeclaims' };
  const SVC: ResourceRef = { group: '', version: 'v1', resource: 'services' };
  const claim = (name: string, storage: string, cls: string): KObject => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: ns },
    spec: { storageClassName: cls, accessModes: ['ReadWriteOnce'], resources: { requests: { storage } } },
  });
  client.create(PVC, ns, claim('g1', '2Gi', 'gold'));
  const e = refusal(() => client.create(PVC, ns, claim('g2', '2Gi', 'gold')));
  assert.equal(
    e.message,
    'persistentvolumeclaims "g2" is forbidden: exceeded quota: st, requested: gold.storageclass.storage.k8s.io/requests.storage=2Gi, used: gold.storageclass.storage.k8s.io/requests.storage=2Gi, limited: gold.storageclass.storage.k8s.io/requests.storage=3Gi',
  );
  client.create(PVC, ns, claim('s1', '2Gi', 'silver'));
  assert.equal(used(ns, 'st')['requests.storage'], '4Gi');
  const svc = client.create(SVC, ns, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: ns },
    spec: {
      ports: [
        { name: 'a', port: 80 },
        { name: 'b', port: 81 },
      ],
    },
  });
  const e2 = refusal(() =>
    client.update(SVC, ns, { ...svc, spec: { ...(svc['spec'] as object), type: 'NodePort' } }),
  );
  assert.equal(
    e2.message,
    'services "web" is forbidden: exceeded quota: st, requested: services.nodeports=2, used: services.nodeports=0, limited: services.nodeports=1',
  );
});
