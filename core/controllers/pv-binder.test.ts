import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KObject } from '../api/object.ts';
import { InProcessClient, type ResourceRef } from '../client/in-process.ts';
import { startCluster, type RunningCluster } from '../cluster/cluster.ts';
import { MemoryProvisioner, provisioners } from '../nodes/provisioner.ts';
import { findBestVolume } from '../volumes/matching.ts';
import { waitFor } from '../testing/wait.ts';

const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
const PVS: ResourceRef = { group: '', version: 'v1', resource: 'persistentvolumes' };
const PVCS: ResourceRef = { group: '', version: 'v1', resource: 'persistentvolumeclaims' };
const SC: ResourceRef = { group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' };
const EVENTS: ResourceRef = { group: '', version: 'v1', resource: 'events' };
const NSR: ResourceRef = { group: '', version: 'v1', resource: 'namespaces' };
const SA: ResourceRef = { group: '', version: 'v1', resource: 'serviceaccounts' };

let dir: string;
let cluster: RunningCluster;
let client: InProcessClient;
const memory = new MemoryProvisioner('berth.test/memory');
let unregister: () => void;

before(async () => {
  unregister = provisioners.register(memory);
  dir = mkdtempSync(join(tmpdir(), 'berth-pv-'));
  cluster = await startCluster({ dataDir: dir, apiPort: 0, driver: 'simulated', nodes: 1 });
  client = new InProcessClient(cluster.server, {
    username: 'system:kube-controller-manager',
    groups: ['system:authenticated'],
  });
});

after(async () => {
  await cluster.stop();
  unregister();
  rmSync(dir, { recursive: true, force: true });
});

async function namespace(name: string): Promise<void> {
  client.create(NSR, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  await waitFor('default service account', () => client.get(SA, name, 'default'));
}

function pv(
  name: string,
  storage: string,
  extra: Record<string, unknown> = {},
  labels?: Record<string, string>,
): KObject {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, ...(labels ? { labels } : {}) },
    spec: {
      capacity: { storage },
      accessModes: ['ReadWriteOnce'],
      hostPath: { path: `/data/${name}` },
      persistentVolumeReclaimPolicy: 'Retain',
      ...extra,
    },
  };
}

function pvc(ns: string, name: string, storage: string, extra: Record<string, unknown> = {}): KObject {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: ns },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage } }, ...extra },
  };
}

const phase = (o: KObject): string => ((o['status'] ?? {}) as { phase?: string }).phase ?? '';
const spec = <T = Record<string, unknown>>(o: KObject): T => o['spec'] as T;
const gone = (r: ResourceRef, ns: string, name: string): boolean => {
  try {
    client.get(r, ns, name);
    return false;
  } catch {
    return true;
  }
};
const events = (ns: string, name: string): { reason: string; message: string }[] =>
  client
    .list(EVENTS, ns)
    .items.filter((e) => (e['involvedObject'] as { name?: string }).name === name)
    .map((e) => ({ reason: String(e['reason']), message: String(e['message']) }));

test('a claim binds to the smallest fitting volume of its class, access modes and volume mode', async () => {
  const ns = 'pv-best';
  await namespace(ns);
  client.create(PVS, '', pv('best-small', '1Gi', { storageClassName: 'manual' }));
  client.create(PVS, '', pv('best-big', '10Gi', { storageClassName: 'manual' }));
  client.create(PVS, '', pv('best-fit', '5Gi', { storageClassName: 'manual' }));
  client.create(
    PVS,
    '',
    pv('best-rwx', '3Gi', { storageClassName: 'manual', accessModes: ['ReadWriteOnce', 'ReadWriteMany'] }),
  );
  client.create(PVS, '', pv('best-other', '2Gi', { storageClassName: 'other' }));
  client.create(PVS, '', pv('best-block', '2Gi', { storageClassName: 'manual', volumeMode: 'Block' }));
  for (const n of ['best-small', 'best-big', 'best-fit', 'best-other'])
    await waitFor(`${n} Available`, () => phase(client.get(PVS, '', n)) === 'Available');
  client.create(PVCS, ns, pvc(ns, 'data', '2Gi', { storageClassName: 'manual' }));
  const claim = await waitFor('claim bound', () => {
    const c = client.get(PVCS, ns, 'data');
    return phase(c) === 'Bound' ? c : undefined;
  });
  assert.equal(spec<{ volumeName: string }>(claim).volumeName, 'best-fit');
  assert.equal(claim.metadata.annotations?.['pv.kubernetes.io/bind-completed'], 'yes');
  assert.equal(claim.metadata.annotations?.['pv.kubernetes.io/bound-by-controller'], 'yes');
  assert.deepEqual((claim['status'] as { capacity: unknown }).capacity, { storage: '5Gi' });
  assert.deepEqual((claim['status'] as { accessModes: unknown }).accessModes, ['ReadWriteOnce']);
  const vol = await waitFor('volume bound', () => {
    const v = client.get(PVS, '', 'best-fit');
    return phase(v) === 'Bound' ? v : undefined;
  });
  assert.equal(vol.metadata.annotations?.['pv.kubernetes.io/bound-by-controller'], 'yes');
  const ref = spec<{ claimRef: Record<string, string> }>(vol).claimRef;
  assert.equal(ref['name'], 'data');
  assert.equal(ref['namespace'], ns);
  assert.equal(ref['uid'], claim.metadata.uid);
  assert.equal(ref['kind'], 'PersistentVolumeClaim');
  // A claim needing RWX takes the only RWX volume; a Block claim the Block one.
  client.create(
    PVCS,
    ns,
    pvc(ns, 'shared', '1Gi', { storageClassName: 'manual', accessModes: ['ReadWriteMany'] }),
  );
  client.create(PVCS, ns, pvc(ns, 'raw', '1Gi', { storageClassName: 'manual', volumeMode: 'Block' }));
  await waitFor(
    'rwx bound',
    () => spec<{ volumeName?: string }>(client.get(PVCS, ns, 'shared')).volumeName === 'best-rwx',
  );
  await waitFor(
    'block bound',
    () => spec<{ volumeName?: string }>(client.get(PVCS, ns, 'raw')).volumeName === 'best-block',
  );
  // Nothing fits 20Gi: the claim stays Pending.
  client.create(PVCS, ns, pvc(ns, 'huge', '20Gi', { storageClassName: 'manual' }));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(phase(client.get(PVCS, ns, 'huge')), 'Pending');
});

test('pre-binding: claim.spec.volumeName and volume.spec.claimRef; selector', async () => {
  const ns = 'pv-prebound';
  await namespace(ns);
  client.create(PVS, '', pv('pre-a', '1Gi'));
  client.create(PVS, '', pv('pre-b', '1Gi', { claimRef: { namespace: ns, name: 'wants-b' } }));
  client.create(PVS, '', pv('pre-c', '1Gi', {}, { tier: 'gold' }));
  client.create(PVS, '', pv('pre-d', '1Gi', {}, { tier: 'silver' }));
  client.create(PVCS, ns, pvc(ns, 'wants-a', '1Gi', { storageClassName: '', volumeName: 'pre-a' }));
  client.create(PVCS, ns, pvc(ns, 'wants-b', '1Gi', { storageClassName: '' }));
  client.create(
    PVCS,
    ns,
    pvc(ns, 'wants-gold', '1Gi', { storageClassName: '', selector: { matchLabels: { tier: 'gold' } } }),
  );
  await waitFor('a bound', () => phase(client.get(PVCS, ns, 'wants-a')) === 'Bound');
  const b = await waitFor('b bound', () => {
    const c = client.get(PVCS, ns, 'wants-b');
    return phase(c) === 'Bound' ? c : undefined;
  });
  assert.equal(spec<{ volumeName: string }>(b).volumeName, 'pre-b');
  // The user pre-bound the volume: no bound-by-controller on it; the claim's volumeName was set by us.
  const vb = client.get(PVS, '', 'pre-b');
  assert.equal(vb.metadata.annotations?.['pv.kubernetes.io/bound-by-controller'], undefined);
  assert.equal(spec<{ claimRef: { uid: string } }>(vb).claimRef.uid, b.metadata.uid);
  await waitFor(
    'gold bound',
    () => spec<{ volumeName?: string }>(client.get(PVCS, ns, 'wants-gold')).volumeName === 'pre-c',
  );
  const a = client.get(PVCS, ns, 'wants-a');
  assert.equal(a.metadata.annotations?.['pv.kubernetes.io/bound-by-controller'], undefined);
});

test('dynamic provisioning through a registered provisioner; Delete removes volume and storage', async () => {
  const ns = 'pv-dynamic';
  await namespace(ns);
  client.create(SC, '', {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'mem', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: 'berth.test/memory',
    parameters: { speed: 'fast' },
  });
  // No class named: the DefaultStorageClass admission picks "mem".
  const created = client.create(PVCS, ns, pvc(ns, 'dyn', '3Gi'));
  assert.equal(spec<{ storageClassName?: string }>(created).storageClassName, 'mem');
  const claim = await waitFor('provisioned claim bound', () => {
    const c = client.get(PVCS, ns, 'dyn');
    return phase(c) === 'Bound' ? c : undefined;
  });
  const pvName = `pvc-${claim.metadata.uid ?? ''}`;
  assert.equal(spec<{ volumeName: string }>(claim).volumeName, pvName);
  assert.equal(claim.metadata.annotations?.['volume.kubernetes.io/storage-provisioner'], 'berth.test/memory');
  assert.equal(
    claim.metadata.annotations?.['volume.beta.kubernetes.io/storage-provisioner'],
    'berth.test/memory',
  );
  const vol = client.get(PVS, '', pvName);
  assert.equal(vol.metadata.annotations?.['pv.kubernetes.io/provisioned-by'], 'berth.test/memory');
  const vs = spec<Record<string, unknown>>(vol);
  assert.equal(vs['persistentVolumeReclaimPolicy'], 'Delete');
  assert.equal(vs['storageClassName'], 'mem');
  assert.deepEqual(vs['capacity'], { storage: '3Gi' });
  assert.deepEqual(vs['hostPath'], { path: `/var/lib/berth/volumes/${pvName}`, type: 'DirectoryOrCreate' });
  assert.equal(memory.volumes.get(pvName)?.parameters['speed'], 'fast');
  await waitFor('pv Bound', () => phase(client.get(PVS, '', pvName)) === 'Bound');
  const reasons = events(ns, 'dyn').map((e) => e.reason);
  assert.ok(reasons.includes('Provisioning') && reasons.includes('ProvisioningSucceeded'), reasons.join(','));
  client.delete(PVCS, ns, 'dyn');
  await waitFor('provisioned volume deleted', () => gone(PVS, '', pvName));
  assert.ok(memory.deleted.includes(pvName));
  assert.equal(memory.volumes.has(pvName), false);
  // A failing provisioner: ProvisioningFailed, then a retry succeeds.
  memory.failNext = 'disk full';
  client.create(PVCS, ns, pvc(ns, 'retry', '1Gi', { storageClassName: 'mem' }));
  await waitFor('retried claim bound', () => phase(client.get(PVCS, ns, 'retry')) === 'Bound');
  assert.ok(
    events(ns, 'retry').some(
      (e) =>
        e.reason === 'ProvisioningFailed' &&
        e.message === 'failed to provision volume with StorageClass "mem": disk full',
    ),
  );
  client.delete(SC, '', 'mem');
});

test('reclaim: Retain leaves the volume Released; a class with an unknown provisioner waits', async () => {
  const ns = 'pv-retain';
  await namespace(ns);
  client.create(PVS, '', pv('keep', '1Gi', { storageClassName: 'slow' }));
  client.create(
    PVS,
    '',
    pv('nodeleter', '1Gi', { storageClassName: 'gone', persistentVolumeReclaimPolicy: 'Delete' }),
  );
  client.create(SC, '', {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'retained' },
    provisioner: 'berth.test/memory',
    reclaimPolicy: 'Retain',
  });
  client.create(PVCS, ns, pvc(ns, 'k', '1Gi', { storageClassName: 'slow' }));
  client.create(PVCS, ns, pvc(ns, 'n', '1Gi', { storageClassName: 'gone' }));
  const r = client.create(PVCS, ns, pvc(ns, 'r', '1Gi', { storageClassName: 'retained' }));
  await waitFor('k bound', () => phase(client.get(PVCS, ns, 'k')) === 'Bound');
  await waitFor('n bound', () => phase(client.get(PVCS, ns, 'n')) === 'Bound');
  await waitFor('r bound', () => phase(client.get(PVCS, ns, 'r')) === 'Bound');
  const rName = `pvc-${r.metadata.uid ?? ''}`;
  client.delete(PVCS, ns, 'k');
  client.delete(PVCS, ns, 'n');
  client.delete(PVCS, ns, 'r');
  await waitFor('keep Released', () => phase(client.get(PVS, '', 'keep')) === 'Released');
  await waitFor('retained Released', () => phase(client.get(PVS, '', rName)) === 'Released');
  const failed = await waitFor('nodeleter Failed', () => {
    const v = client.get(PVS, '', 'nodeleter');
    return phase(v) === 'Failed' ? v : undefined;
  });
  assert.equal(
    (failed['status'] as { message?: string }).message,
    'error getting deleter volume plugin for volume "nodeleter": no deletable volume plugin matched',
  );
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(phase(client.get(PVS, '', 'keep')), 'Released');
  assert.equal(memory.deleted.includes(rName), false);
  // A Released volume is not bound again.
  client.create(PVCS, ns, pvc(ns, 'k2', '1Gi', { storageClassName: 'slow' }));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(phase(client.get(PVCS, ns, 'k2')), 'Pending');
  // An external provisioner nobody registered: the claim is annotated and waits.
  client.create(SC, '', {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'ext' },
    provisioner: 'csi.example/ext',
  });
  client.create(PVCS, ns, pvc(ns, 'e', '1Gi', { storageClassName: 'ext' }));
  await waitFor(
    'external annotation',
    () =>
      client.get(PVCS, ns, 'e').metadata.annotations?.['volume.kubernetes.io/storage-provisioner'] ===
      'csi.example/ext',
  );
  await waitFor('ExternalProvisioning event', () =>
    events(ns, 'e').some((e) => e.reason === 'ExternalProvisioning'),
  );
  assert.equal(phase(client.get(PVCS, ns, 'e')), 'Pending');
});

test('WaitForFirstConsumer: provision on the node of the first pod', async () => {
  const ns = 'pv-wffc';
  await namespace(ns);
  client.create(SC, '', {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'local' },
    provisioner: 'berth.test/memory',
    volumeBindingMode: 'WaitForFirstConsumer',
  });
  client.create(PVCS, ns, pvc(ns, 'late', '1Gi', { storageClassName: 'local' }));
  await waitFor('WaitForFirstConsumer event', () =>
    events(ns, 'late').some(
      (e) =>
        e.reason === 'WaitForFirstConsumer' &&
        e.message === 'waiting for first consumer to be created before binding',
    ),
  );
  assert.equal(phase(client.get(PVCS, ns, 'late')), 'Pending');
  client.create(PODS, ns, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'user', namespace: ns },
    spec: {
      containers: [{ name: 'app', image: 'nginx' }],
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'late' } }],
    },
  });
  const claim = await waitFor(
    'claim bound',
    () => {
      const c = client.get(PVCS, ns, 'late');
      return phase(c) === 'Bound' ? c : undefined;
    },
    10000,
  );
  const node = spec<{ nodeName: string }>(client.get(PODS, ns, 'user')).nodeName;
  assert.equal(claim.metadata.annotations?.['volume.kubernetes.io/selected-node'], node);
  const vol = client.get(PVS, '', `pvc-${claim.metadata.uid ?? ''}`);
  assert.deepEqual(spec<{ nodeAffinity: unknown }>(vol).nodeAffinity, {
    required: {
      nodeSelectorTerms: [
        { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] },
      ],
    },
  });
});

test('findBestVolume prefers the smallest access-mode superset', () => {
  const claim: KObject = {
    metadata: { name: 'c', namespace: 'n', uid: 'u' },
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '1Gi' } },
      storageClassName: '',
    },
  };
  const mk = (name: string, size: string, modes: string[]): KObject => ({
    metadata: { name },
    spec: { capacity: { storage: size }, accessModes: modes },
    status: { phase: 'Available' },
  });
  const best = findBestVolume(claim, [
    mk('rwx-small', '1Gi', ['ReadWriteOnce', 'ReadWriteMany']),
    mk('rwo-big', '8Gi', ['ReadWriteOnce']),
  ]);
  assert.equal(best?.metadata.name, 'rwo-big');
  assert.equal(findBestVolume(claim, [mk('tiny', '500Mi', ['ReadWriteOnce'])]), undefined);
});

test('pvc-protection holds a claim in use by a pod; pv-protection finalizer on volumes', async () => {
  const ns = 'pv-protect';
  await namespace(ns);
  const v = client.create(PVS, '', pv('prot', '1Gi', { storageClassName: 'prot' }));
  assert.deepEqual(v.metadata.finalizers, ['kubernetes.io/pv-protection']);
  const c = client.create(PVCS, ns, pvc(ns, 'used', '1Gi', { storageClassName: 'prot' }));
  assert.deepEqual(c.metadata.finalizers, ['kubernetes.io/pvc-protection']);
  await waitFor('bound', () => phase(client.get(PVCS, ns, 'used')) === 'Bound');
  client.create(PODS, ns, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'holder', namespace: ns },
    spec: {
      containers: [{ name: 'app', image: 'nginx' }],
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'used' } }],
    },
  });
  client.delete(PVCS, ns, 'used');
  await new Promise((r) => setTimeout(r, 150));
  const held = client.get(PVCS, ns, 'used');
  assert.ok(held.metadata.deletionTimestamp);
  assert.deepEqual(held.metadata.finalizers, ['kubernetes.io/pvc-protection']);
  // A bound volume being deleted is held too.
  client.delete(PVS, '', 'prot');
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(client.get(PVS, '', 'prot').metadata.deletionTimestamp);
  client.delete(PODS, ns, 'holder', { gracePeriodSeconds: 0 });
  await waitFor('claim released and gone', () => gone(PVCS, ns, 'used'));
  // The claim is gone: the Retain volume is Released, no longer Bound, so its deletion completes.
  await waitFor('volume gone', () => gone(PVS, '', 'prot'));
});
