import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { StatusError } from '../../api/status.ts';
import { InProcessClient, type ResourceRef } from '../../client/in-process.ts';
import { clusterFixture } from '../../testing/cluster-fixture.ts';

const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
const LR: ResourceRef = { group: '', version: 'v1', resource: 'limitranges' };
const PVC: ResourceRef = { group: '', version: 'v1', resource: 'persistentvolumeclaims' };
const SC: ResourceRef = { group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' };

let client: InProcessClient;
const fx = clusterFixture(
  'berth-lr-',
  { disableScheduler: true },
  { ready: (f) => void (client = f.client) },
);
const namespace = (name: string): Promise<void> => fx.namespace(name);

function pod(ns: string, name: string, resources: Record<string, unknown>, init = false): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec: {
      containers: [{ name: 'app', image: 'nginx', resources }],
      ...(init ? { initContainers: [{ name: 'setup', image: 'busybox' }] } : {}),
    },
  };
}

function limitRange(ns: string, name: string, limits: unknown[]): void {
  client.create(LR, ns, {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: { name, namespace: ns },
    spec: { limits },
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

type Res = { requests?: Record<string, string>; limits?: Record<string, string> };
const containers = (p: KObject, field = 'containers'): { name: string; resources?: Res }[] =>
  (p['spec'] as Record<string, { name: string; resources?: Res }[]>)[field] ?? [];

test('Container defaults and defaultRequest are applied, with the limit-ranger annotation', async () => {
  const ns = 'lr-defaults';
  await namespace(ns);
  limitRange(ns, 'defaults', [
    {
      type: 'Container',
      default: { cpu: '500m', memory: '256Mi' },
      defaultRequest: { cpu: '100m', memory: '128Mi' },
    },
  ]);
  const p = client.create(PODS, ns, pod(ns, 'p', {}, true));
  assert.deepEqual(containers(p)[0]!.resources, {
    requests: { cpu: '100m', memory: '128Mi' },
    limits: { cpu: '500m', memory: '256Mi' },
  });
  assert.deepEqual(containers(p, 'initContainers')[0]!.resources?.limits, { cpu: '500m', memory: '256Mi' });
  assert.equal(
    p.metadata.annotations?.['kubernetes.io/limit-ranger'],
    'LimitRanger plugin set: cpu, memory request for container app; cpu, memory limit for container app; cpu, memory request for init container setup; cpu, memory limit for init container setup',
  );
  assert.equal((p['status'] as { qosClass?: string }).qosClass, 'Burstable');
  // A container that sets its own memory keeps it; only the missing ones are recorded.
  const q = client.create(PODS, ns, pod(ns, 'q', { limits: { memory: '64Mi' } }));
  assert.deepEqual(containers(q)[0]!.resources, {
    requests: { cpu: '100m', memory: '64Mi' },
    limits: { cpu: '500m', memory: '64Mi' },
  });
  assert.equal(
    q.metadata.annotations?.['kubernetes.io/limit-ranger'],
    'LimitRanger plugin set: cpu request for container app; cpu limit for container app',
  );
});

test('min, max and maxLimitRequestRatio are enforced with upstream messages', async () => {
  const ns = 'lr-bounds';
  await namespace(ns);
  limitRange(ns, 'bounds', [
    { type: 'Container', min: { cpu: '100m' }, max: { memory: '1Gi' }, maxLimitRequestRatio: { cpu: '4' } },
  ]);
  // The defaulting fills default = max and defaultRequest = default/min.
  const e = refusal(() =>
    client.create(
      PODS,
      ns,
      pod(ns, 'small', { requests: { cpu: '50m' }, limits: { cpu: '100m', memory: '1Gi' } }),
    ),
  );
  assert.equal(e.code, 403);
  assert.equal(
    e.message,
    'pods "small" is forbidden: minimum cpu usage per Container is 100m, but request is 50m',
  );
  const e2 = refusal(() =>
    client.create(
      PODS,
      ns,
      pod(ns, 'big', { requests: { cpu: '200m', memory: '1Gi' }, limits: { cpu: '200m', memory: '2Gi' } }),
    ),
  );
  assert.equal(
    e2.message,
    'pods "big" is forbidden: maximum memory usage per Container is 1Gi, but limit is 2Gi',
  );
  const e3 = refusal(() =>
    client.create(
      PODS,
      ns,
      pod(ns, 'ratio', { requests: { cpu: '100m' }, limits: { cpu: '1', memory: '1Gi' } }),
    ),
  );
  assert.equal(
    e3.message,
    'pods "ratio" is forbidden: cpu max limit to request ratio per Container is 4, but provided ratio is 10.000000',
  );
  client.create(
    PODS,
    ns,
    pod(ns, 'fine', { requests: { cpu: '250m' }, limits: { cpu: '1', memory: '512Mi' } }),
  );
});

test('type Pod sums the containers; type PersistentVolumeClaim bounds storage; default StorageClass', async () => {
  const ns = 'lr-pod-pvc';
  await namespace(ns);
  limitRange(ns, 'pod', [
    { type: 'Pod', max: { cpu: '1' } },
    { type: 'PersistentVolumeClaim', min: { storage: '1Gi' }, max: { storage: '5Gi' } },
  ]);
  const two = pod(ns, 'two', { limits: { cpu: '600m' } });
  containers(two).push({ name: 'side', resources: { limits: { cpu: '600m' } } });
  (containers(two)[1] as Record<string, unknown>)['image'] = 'nginx';
  const e = refusal(() => client.create(PODS, ns, two));
  assert.equal(e.message, 'pods "two" is forbidden: maximum cpu usage per Pod is 1, but limit is 1200m');
  const claim = (name: string, storage: string, cls?: string): KObject => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: ns },
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage } },
      ...(cls !== undefined ? { storageClassName: cls } : {}),
    },
  });
  const e2 = refusal(() => client.create(PVC, ns, claim('tiny', '500Mi', '')));
  assert.equal(
    e2.message,
    'persistentvolumeclaims "tiny" is forbidden: minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi',
  );
  const e3 = refusal(() => client.create(PVC, ns, claim('huge', '10Gi', '')));
  assert.equal(
    e3.message,
    'persistentvolumeclaims "huge" is forbidden: maximum storage usage per PersistentVolumeClaim is 5Gi, but request is 10Gi',
  );
  // DefaultStorageClass: only claims without a class get the default one.
  client.create(SC, '', {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'standard-lr', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: 'example.test/none',
  });
  const c1 = client.create(PVC, ns, claim('c1', '2Gi'));
  assert.equal((c1['spec'] as { storageClassName?: string }).storageClassName, 'standard-lr');
  const c2 = client.create(PVC, ns, claim('c2', '2Gi', ''));
  assert.equal((c2['spec'] as { storageClassName?: string }).storageClassName, '');
  client.delete(SC, '', 'standard-lr');
});
