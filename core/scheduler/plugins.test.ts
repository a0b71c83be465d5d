import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import {
  balancedAllocationScore,
  failedSchedulingMessage,
  filterNode,
  leastAllocatedScore,
  nodeAffinity,
  nodePorts,
  nodeResourcesFit,
  nodeUnschedulable,
  podRequests,
  scoreNodes,
  taintToleration,
  type NodeInfo,
} from './plugins.ts';

function node(name: string, extra: Partial<Node> = {}, cpu = '2', memory = '4Gi', pods = '110'): Node {
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    spec: {},
    status: { allocatable: { cpu, memory, pods } },
    ...extra,
  } as Node;
}

function pod(name: string, spec: Partial<Pod['spec']> = {}, requests?: Record<string, string>): Pod {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}` },
    spec: {
      containers: [{ name: 'c', image: 'x', ...(requests ? { resources: { requests } } : {}) }],
      ...spec,
    },
  } as Pod;
}

const info = (n: Node, pods: Pod[] = []): NodeInfo => ({ node: n, pods });

test('podRequests: containers summed, init containers max, sidecars added, overhead', () => {
  const p = pod('a', {
    containers: [
      { name: 'a', resources: { requests: { cpu: '100m', memory: '1Mi' } } },
      { name: 'b', resources: { requests: { cpu: '200m' } } },
    ],
    initContainers: [{ name: 'i', resources: { requests: { cpu: '1', memory: '10Mi' } } }],
    overhead: { cpu: '10m' },
  });
  assert.deepEqual(podRequests(p), { cpu: 1010, memory: 10 * 1024 * 1024 });
  assert.deepEqual(podRequests(pod('z')), {});
  assert.deepEqual(podRequests(pod('z'), true), { cpu: 100, memory: 200 * 1024 * 1024 });
  const side = pod('s', {
    containers: [{ name: 'a', resources: { requests: { cpu: '100m' } } }],
    initContainers: [
      { name: 's', restartPolicy: 'Always', resources: { requests: { cpu: '50m' } } },
      { name: 'i', resources: { requests: { cpu: '120m' } } },
    ],
  });
  assert.equal(podRequests(side)['cpu'], 170);
});

test('NodeUnschedulable honours the unschedulable toleration', () => {
  const n = node('n', { spec: { unschedulable: true } });
  assert.deepEqual(nodeUnschedulable(pod('a'), info(n)).reasons, ['node(s) were unschedulable']);
  const tol = pod('b', {
    tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }],
  });
  assert.equal(nodeUnschedulable(tol, info(n)).fits, true);
});

test('TaintToleration: NoSchedule and NoExecute need tolerations; PreferNoSchedule does not', () => {
  const n = node('n', { spec: { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] } });
  assert.deepEqual(taintToleration(pod('a'), info(n)).reasons, [
    'node(s) had untolerated taint {dedicated: gpu}',
  ]);
  const eq = pod('b', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu' }] });
  assert.equal(taintToleration(eq, info(n)).fits, true);
  const wrongValue = pod('c', { tolerations: [{ key: 'dedicated', value: 'cpu', effect: 'NoSchedule' }] });
  assert.equal(taintToleration(wrongValue, info(n)).fits, false);
  const all = pod('d', { tolerations: [{ operator: 'Exists' }] });
  assert.equal(taintToleration(all, info(n)).fits, true);
  const ne = node('m', { spec: { taints: [{ key: 'k', effect: 'NoExecute' }] } });
  assert.deepEqual(taintToleration(pod('e'), info(ne)).reasons, ['node(s) had untolerated taint {k: }']);
  const wrongEffect = pod('f', { tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule' }] });
  assert.equal(taintToleration(wrongEffect, info(ne)).fits, false);
  const pns = node('p', { spec: { taints: [{ key: 'k', effect: 'PreferNoSchedule' }] } });
  assert.equal(taintToleration(pod('g'), info(pns)).fits, true);
});

test('NodeAffinity: nodeSelector and required terms with every operator and matchFields', () => {
  const n = node('n1');
  n.metadata!.labels = { ...n.metadata!.labels, gpu: 'true', zone: 'a', cores: '8' };
  const sel = (s: Record<string, string>) => nodeAffinity(pod('a', { nodeSelector: s }), info(n)).fits;
  assert.equal(sel({ gpu: 'true' }), true);
  assert.equal(sel({ gpu: 'false' }), false);
  const req = (exprs: object[], fields: object[] = []) =>
    nodeAffinity(
      pod('a', {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: exprs, matchFields: fields }] as never,
            },
          },
        },
      }),
      info(n),
    ).fits;
  assert.equal(req([{ key: 'zone', operator: 'In', values: ['a', 'b'] }]), true);
  assert.equal(req([{ key: 'zone', operator: 'NotIn', values: ['a'] }]), false);
  assert.equal(req([{ key: 'missing', operator: 'NotIn', values: ['a'] }]), true);
  assert.equal(req([{ key: 'gpu', operator: 'Exists' }]), true);
  assert.equal(req([{ key: 'gpu', operator: 'DoesNotExist' }]), false);
  assert.equal(req([{ key: 'cores', operator: 'Gt', values: ['4'] }]), true);
  assert.equal(req([{ key: 'cores', operator: 'Lt', values: ['4'] }]), false);
  assert.equal(req([{ key: 'zone', operator: 'Gt', values: ['4'] }]), false);
  assert.equal(req([], [{ key: 'metadata.name', operator: 'In', values: ['n1'] }]), true);
  assert.equal(req([], [{ key: 'metadata.name', operator: 'NotIn', values: ['n1'] }]), false);
  assert.equal(req([]), false, 'an empty term matches nothing');
  assert.deepEqual(nodeAffinity(pod('a', { nodeSelector: { gpu: 'no' } }), info(n)).reasons, [
    "node(s) didn't match Pod's node affinity/selector",
  ]);
});

test('NodeResourcesFit: requests vs allocatable minus bound pods, with numbers', () => {
  const n = node('n', {}, '1', '1Gi', '2');
  const bound = [pod('x', {}, { cpu: '600m', memory: '512Mi' })];
  const r = nodeResourcesFit(pod('a', {}, { cpu: '500m', memory: '256Mi' }), info(n, bound));
  assert.deepEqual(r.reasons, ['Insufficient cpu']);
  assert.deepEqual(
    r.resources?.find((d) => d.resource === 'cpu'),
    { resource: 'cpu', requested: 500, used: 600, allocatable: 1000 },
  );
  const both = nodeResourcesFit(pod('b', {}, { cpu: '500m', memory: '600Mi' }), info(n, bound));
  assert.deepEqual(both.reasons, ['Insufficient cpu', 'Insufficient memory']);
  assert.equal(nodeResourcesFit(pod('c', {}, { cpu: '400m' }), info(n, bound)).fits, true);
  const full = nodeResourcesFit(pod('d'), info(n, [pod('y'), pod('z')]));
  assert.deepEqual(full.reasons, ['Too many pods']);
  const gpu = nodeResourcesFit(pod('e', {}, { 'nvidia.com/gpu': '1' }), info(n));
  assert.deepEqual(gpu.reasons, ['Insufficient nvidia.com/gpu']);
});

test('NodePorts: hostPort conflicts by port, protocol and IP', () => {
  const hp = (name: string, port: number, protocol = 'TCP', hostIP?: string) =>
    pod(name, {
      containers: [{ name: 'c', ports: [{ containerPort: 80, hostPort: port, protocol, hostIP }] }],
    });
  const n = node('n');
  assert.deepEqual(nodePorts(hp('a', 8080), info(n, [hp('b', 8080)])).reasons, [
    "node(s) didn't have free ports for the requested pod ports",
  ]);
  assert.equal(nodePorts(hp('a', 8080, 'UDP'), info(n, [hp('b', 8080)])).fits, true);
  assert.equal(nodePorts(hp('a', 8081), info(n, [hp('b', 8080)])).fits, true);
  assert.equal(
    nodePorts(hp('a', 8080, 'TCP', '172.29.0.11'), info(n, [hp('b', 8080, 'TCP', '172.29.0.12')])).fits,
    true,
  );
  assert.equal(nodePorts(hp('a', 8080, 'TCP', '172.29.0.11'), info(n, [hp('b', 8080)])).fits, false);
});

test('FailedScheduling message: sorted histogram and preemption part', () => {
  const big = pod('a', { nodeSelector: { gpu: 'true' } }, { cpu: '3' });
  const n1 = node('n1');
  n1.metadata!.labels!['gpu'] = 'true';
  const verdicts = [
    filterNode(big, info(n1)),
    filterNode(big, info(node('n2'))),
    filterNode(big, info(node('n3'))),
  ];
  assert.equal(
    failedSchedulingMessage(big, verdicts),
    "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector. " +
      'preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, ' +
      '2 Preemption is not helpful for scheduling.',
  );
  const sel = pod('b', { nodeSelector: { gpu: 'true' } });
  assert.equal(
    failedSchedulingMessage(sel, [filterNode(sel, info(node('n2'))), filterNode(sel, info(node('n3')))]),
    "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. " +
      'preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.',
  );
  const never = pod('c', { nodeSelector: { gpu: 'true' }, preemptionPolicy: 'Never' });
  assert.match(
    failedSchedulingMessage(never, [filterNode(never, info(node('n2')))]),
    /preemptionPolicy=Never/,
  );
});

test('scores: least allocated and balanced prefer the emptier node; siblings spread', () => {
  const p = pod('a', {}, { cpu: '500m', memory: '512Mi' });
  const empty = info(node('e'));
  const busy = info(node('b'), [pod('x', {}, { cpu: '1', memory: '1Gi' })]);
  assert.ok(leastAllocatedScore(p, empty) > leastAllocatedScore(p, busy));
  assert.equal(balancedAllocationScore(pod('q', {}, { cpu: '1', memory: '2Gi' }), empty), 100);
  const owner = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'rs1', controller: true }];
  const child = (name: string) =>
    ({ ...pod(name), metadata: { name, namespace: 'd', ownerReferences: owner } }) as Pod;
  const s = scoreNodes(child('new'), [info(node('n1'), [child('o1')]), info(node('n2'))]);
  assert.equal(s[0]!.scores['PodTopologySpread'], 0);
  assert.equal(s[1]!.scores['PodTopologySpread'], 100);
  assert.ok(s[1]!.total > s[0]!.total);
});
