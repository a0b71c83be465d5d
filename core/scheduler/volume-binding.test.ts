import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import type { KObject } from '../api/object.ts';
import { failedSchedulingMessage, filterNode, type NodeInfo, podState, rejectedVerdict } from './plugins.ts';
import {
  REASON_BIND_CONFLICT,
  REASON_NODE_CONFLICT,
  REASON_PV_NOT_EXIST,
  UNBOUND_IMMEDIATE,
  type VolumeObjects,
  volumeBinding,
} from './volume-binding.ts';

const node = (name: string, labels: Record<string, string> = {}): NodeInfo => ({
  node: {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
    spec: {},
    status: { allocatable: { cpu: '2', memory: '4Gi', pods: '110' } },
  } as Node,
  pods: [],
});

const pod = (...claims: string[]): Pod =>
  ({
    metadata: { name: 'p', namespace: 'default', uid: 'u1' },
    spec: {
      containers: [{ name: 'c', image: 'x' }],
      volumes: claims.map((c, i) => ({ name: `v${i}`, persistentVolumeClaim: { claimName: c } })),
    },
  }) as Pod;

const claim = (name: string, cls: string, volumeName?: string): KObject => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name, namespace: 'default', uid: `uid-${name}` },
  spec: {
    storageClassName: cls,
    accessModes: ['ReadWriteOnce'],
    resources: { requests: { storage: '1Gi' } },
    ...(volumeName ? { volumeName } : {}),
  },
});

const onNode = (name: string, nodeName: string, cls: string): KObject => ({
  apiVersion: 'v1',
  kind: 'PersistentVolume',
  metadata: { name },
  spec: {
    storageClassName: cls,
    accessModes: ['ReadWriteOnce'],
    capacity: { storage: '5Gi' },
    nodeAffinity: {
      required: {
        nodeSelectorTerms: [
          { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [nodeName] }] },
        ],
      },
    },
  },
  status: { phase: 'Available' },
});

const storageClass = (name: string, extra: Record<string, unknown>): KObject => ({
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: { name },
  ...extra,
});

function objects(items: KObject[]): VolumeObjects {
  const of = (kind: string): KObject[] => items.filter((o) => o.kind === kind);
  return {
    claim: (ns, name) =>
      of('PersistentVolumeClaim').find((c) => c.metadata.namespace === ns && c.metadata.name === name),
    volume: (name) => of('PersistentVolume').find((v) => v.metadata.name === name),
    storageClass: (name) => of('StorageClass').find((c) => c.metadata.name === name),
    volumes: () => of('PersistentVolume'),
  };
}

const fits = (p: Pod, objs: VolumeObjects, n: NodeInfo): string[] =>
  volumeBinding(p, n, podState(p, objs)).reasons;

test('a pod without claims: no volume state, every node passes', () => {
  const st = podState(pod(), objects([]));
  assert.equal(st.volumes, undefined);
  assert.equal(volumeBinding(pod(), node('n1'), st).fits, true);
});

test('PreFilter: a missing claim, a claim being deleted, an unbound immediate claim', () => {
  assert.equal(
    podState(pod('data'), objects([])).volumes?.rejection,
    'persistentvolumeclaim "data" not found',
  );
  const deleting = claim('data', 'standard');
  deleting.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
  assert.equal(
    podState(pod('data'), objects([deleting])).volumes?.rejection,
    'persistentvolumeclaim "data" is being deleted',
  );
  const immediate = objects([claim('data', 'fast'), storageClass('fast', { provisioner: 'x.test/p' })]);
  assert.equal(podState(pod('data'), immediate).volumes?.rejection, UNBOUND_IMMEDIATE);
  // The FailedScheduling message says a PreFilter rejection once, as kube-scheduler's FitError does.
  const verdicts = [node('n1'), node('n2')].map((n) =>
    rejectedVerdict(n, 'VolumeBinding', UNBOUND_IMMEDIATE),
  );
  assert.equal(
    failedSchedulingMessage(pod('data'), verdicts, UNBOUND_IMMEDIATE),
    '0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims. ' +
      'preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.',
  );
});

test('a bound claim follows its volume: node affinity conflict elsewhere, a missing volume nowhere', () => {
  const objs = objects([claim('data', 'standard', 'pv-1'), onNode('pv-1', 'n1', 'standard')]);
  assert.deepEqual(fits(pod('data'), objs, node('n1')), []);
  assert.deepEqual(fits(pod('data'), objs, node('n2')), [REASON_NODE_CONFLICT]);
  const verdict = filterNode(pod('data'), node('n2'), podState(pod('data'), objs));
  assert.equal(verdict.failedPlugin, 'VolumeBinding');
  assert.equal(verdict.unresolvable, true);
  const gone = objects([claim('data', 'standard', 'pv-gone')]);
  assert.deepEqual(fits(pod('data'), gone, node('n1')), [REASON_PV_NOT_EXIST]);
});

test('WaitForFirstConsumer: an Available volume on the node, or a provisioner the topology allows', () => {
  const local = storageClass('local', {
    provisioner: 'kubernetes.io/no-provisioner',
    volumeBindingMode: 'WaitForFirstConsumer',
  });
  const statics = objects([claim('data', 'local'), local, onNode('pv-2', 'n2', 'local')]);
  assert.deepEqual(fits(pod('data'), statics, node('n2')), []);
  assert.deepEqual(fits(pod('data'), statics, node('n1')), [REASON_BIND_CONFLICT]);
  const zoned = storageClass('zoned', {
    provisioner: 'berth.dev/local-path',
    volumeBindingMode: 'WaitForFirstConsumer',
    allowedTopologies: [{ matchLabelExpressions: [{ key: 'topology.kubernetes.io/zone', values: ['a'] }] }],
  });
  const dynamic = objects([claim('data', 'zoned'), zoned]);
  assert.deepEqual(fits(pod('data'), dynamic, node('n1', { 'topology.kubernetes.io/zone': 'a' })), []);
  assert.deepEqual(fits(pod('data'), dynamic, node('n2', { 'topology.kubernetes.io/zone': 'b' })), [
    REASON_BIND_CONFLICT,
  ]);
  // Two claims: one bound on n1, one waiting with a provisioner anywhere → only n1.
  const both = objects([
    claim('a', 'local', 'pv-1'),
    onNode('pv-1', 'n1', 'local'),
    claim('b', 'std'),
    storageClass('std', { provisioner: 'berth.dev/local-path', volumeBindingMode: 'WaitForFirstConsumer' }),
  ]);
  assert.deepEqual(fits(pod('a', 'b'), both, node('n1')), []);
  assert.deepEqual(fits(pod('a', 'b'), both, node('n2')), [REASON_NODE_CONFLICT]);
});
