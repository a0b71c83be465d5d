import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KObject } from '../api/object.ts';
import { InProcessClient, type ResourceRef } from '../client/in-process.ts';
import { startCluster, type RunningCluster } from './cluster.ts';
import { LOCAL_PATH_PROVISIONER } from '../nodes/local-path.ts';
import { MemoryProvisioner, ProvisionerRegistry } from '../nodes/provisioner.ts';
import { waitFor } from '../testing/wait.ts';

const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
const PVS: ResourceRef = { group: '', version: 'v1', resource: 'persistentvolumes' };
const PVCS: ResourceRef = { group: '', version: 'v1', resource: 'persistentvolumeclaims' };
const SA: ResourceRef = { group: '', version: 'v1', resource: 'serviceaccounts' };
const SC: ResourceRef = { group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' };

let dir: string;
let cluster: RunningCluster;
let client: InProcessClient;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-storage-'));
  cluster = await startCluster({ dataDir: dir, apiPort: 0, driver: 'simulated', nodes: 2 });
  client = new InProcessClient(cluster.server, {
    username: 'test-admin',
    groups: ['system:masters', 'system:authenticated'],
  });
  await waitFor('the default service account', () => client.get(SA, 'default', 'default'));
});

after(async () => {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
});

const spec = <T>(o: KObject): T => o['spec'] as T;

test('a simulated cluster has the default StorageClass "standard": a claim without a class binds to a volume on its pod\'s node', async () => {
  const sc = client.get(SC, '', 'standard');
  assert.equal(sc.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'], 'true');
  assert.equal(sc['provisioner'], LOCAL_PATH_PROVISIONER);
  assert.equal(sc['volumeBindingMode'], 'WaitForFirstConsumer');

  client.create(PVCS, 'default', {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'data', namespace: 'default' },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
  });
  // Defaulted by admission, and waiting for a consumer.
  assert.equal(
    spec<{ storageClassName?: string }>(client.get(PVCS, 'default', 'data')).storageClassName,
    'standard',
  );
  client.create(PODS, 'default', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'user', namespace: 'default' },
    spec: {
      containers: [{ name: 'c', image: 'busybox', volumeMounts: [{ name: 'd', mountPath: '/data' }] }],
      volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }],
    },
  });
  const node = await waitFor('the pod is scheduled', () => {
    const n = spec<{ nodeName?: string }>(client.get(PODS, 'default', 'user')).nodeName;
    return n || undefined;
  });
  const volumeName = await waitFor('the claim is bound', () => {
    const c = client.get(PVCS, 'default', 'data');
    return (c['status'] as { phase?: string } | undefined)?.phase === 'Bound'
      ? spec<{ volumeName?: string }>(c).volumeName
      : undefined;
  });
  const pv = client.get(PVS, '', volumeName ?? '');
  assert.equal(pv.metadata.annotations?.['pv.kubernetes.io/provisioned-by'], LOCAL_PATH_PROVISIONER);
  assert.deepEqual(JSON.parse(JSON.stringify(spec<Record<string, unknown>>(pv)['nodeAffinity'])), {
    required: {
      nodeSelectorTerms: [
        { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] },
      ],
    },
  });
});

test("a cluster registry finds its own provisioners first, then the process-wide ones; not another cluster's", () => {
  const processWide = new ProvisionerRegistry();
  const shared = new MemoryProvisioner('berth.test/shared');
  processWide.register(shared);
  const a = new ProvisionerRegistry(processWide);
  const b = new ProvisionerRegistry(processWide);
  const ownA = new MemoryProvisioner(LOCAL_PATH_PROVISIONER, '/a');
  const ownB = new MemoryProvisioner(LOCAL_PATH_PROVISIONER, '/b');
  const unregisterA = a.register(ownA);
  b.register(ownB);
  assert.equal(a.get(LOCAL_PATH_PROVISIONER), ownA);
  assert.equal(b.get(LOCAL_PATH_PROVISIONER), ownB);
  assert.equal(a.get('berth.test/shared'), shared);
  assert.deepEqual(a.names(), [LOCAL_PATH_PROVISIONER, 'berth.test/shared'].sort());
  unregisterA();
  assert.equal(a.get(LOCAL_PATH_PROVISIONER), undefined);
  assert.equal(b.get(LOCAL_PATH_PROVISIONER), ownB);
});
