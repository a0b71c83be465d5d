import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import { NodeInfoCache } from './node-cache.ts';
import { feasible, podState, scoreNodes } from './plugins.ts';
import { numFeasibleNodesToFind } from './scheduler.ts';

const node = (name: string, cpu = '2'): Node =>
  ({ metadata: { name }, spec: {}, status: { allocatable: { cpu, memory: '4Gi', pods: '2' } } }) as Node;
const pod = (name: string, cpu: string, owner?: string): Pod =>
  ({
    metadata: {
      name,
      namespace: 'default',
      ...(owner
        ? { ownerReferences: [{ uid: owner, controller: true, kind: 'ReplicaSet', name: 'rs' }] }
        : {}),
    },
    spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu } } }] },
  }) as Pod;

test('node cache: sums and controller counts follow pods; pods may arrive before their node', () => {
  const c = new NodeInfoCache();
  c.addPod('n1', 'default/a', pod('a', '500m', 'rs1'));
  assert.equal(c.all().length, 0, 'a node not seen yet is not listed');
  c.setNode(node('n1'));
  c.setNode(node('n2'));
  c.addPod('n1', 'default/b', pod('b', '1', 'rs1'));
  const n1 = c.get('n1')!;
  assert.deepEqual(
    c.all().map((i) => i.node.metadata?.name),
    ['n1', 'n2'],
  );
  assert.equal(n1.requested?.['cpu'], 1500);
  assert.equal(n1.nonZeroRequested?.['memory'], 2 * 200 * 1024 * 1024);
  assert.equal(n1.controllers?.get('rs1'), 2);
  assert.equal(n1.allocatable?.['pods'], 2);
  // Full (pods: 2): no third pod fits n1; n2 is empty.
  const third = pod('c', '100m', 'rs1');
  assert.equal(feasible(third, n1, podState(third)), false);
  assert.equal(feasible(third, c.get('n2')!, podState(third)), true);
  // Spreading reads the cached per-controller counts: the empty node scores higher.
  const [s1, s2] = scoreNodes(third, [n1, c.get('n2')!]);
  assert.ok(s2!.total > s1!.total);
  c.removePod('n1', 'default/a');
  assert.equal(n1.requested?.['cpu'], 1000);
  assert.equal(n1.controllers?.get('rs1'), 1);
  assert.deepEqual(
    n1.pods.map((p) => p.metadata?.name),
    ['b'],
  );
  c.removePod('n1', 'default/b');
  assert.deepEqual(n1.requested, {});
  assert.equal(n1.controllers?.size, 0);
  c.removeNode('n2');
  assert.deepEqual(
    c.all().map((i) => i.node.metadata?.name),
    ['n1'],
  );
});

test('numFeasibleNodesToFind: every node below 100, then the adaptive percentage, at least 100', () => {
  assert.equal(numFeasibleNodesToFind(3), 3);
  assert.equal(numFeasibleNodesToFind(99), 99);
  assert.equal(numFeasibleNodesToFind(100), 100);
  assert.equal(numFeasibleNodesToFind(150), 100); // 49% of 150 = 73, raised to 100
  assert.equal(numFeasibleNodesToFind(1000), 420); // 50 - 8 = 42%
  assert.equal(numFeasibleNodesToFind(5000), 500); // 50 - 40 = 10%
  assert.equal(numFeasibleNodesToFind(10_000), 500); // floor of 5%
});
