import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuQuantity, goDuration, memoryQuantity, nodeMetricsObject, podMetricsObject } from './objects.ts';

test('quantities in the canonical form metrics-server prints', () => {
  assert.equal(cpuQuantity(12_345_678), '12345678n');
  assert.equal(cpuQuantity(200_000_000), '200m');
  assert.equal(cpuQuantity(1_500), '1500n');
  assert.equal(cpuQuantity(2_000_000_000), '2');
  assert.equal(cpuQuantity(0), '0');
  assert.equal(memoryQuantity(1_263_616), '1234Ki');
  assert.equal(memoryQuantity(50 * 1024 * 1024), '50Mi');
  assert.equal(memoryQuantity(1_234_567), '1234567');
});

test('windows as Go durations', () => {
  assert.equal(goDuration(15_012), '15.012s');
  assert.equal(goDuration(15_000), '15s');
  assert.equal(goDuration(60_500), '1m0.5s');
  assert.equal(goDuration(250), '250ms');
  assert.equal(goDuration(3_723_000), '1h2m3s');
});

test('NodeMetrics and PodMetrics shapes', () => {
  const now = new Date('2026-01-01T00:00:30Z');
  const r = { timestamp: new Date('2026-01-01T00:00:20.400Z'), windowMs: 15_000 };
  const node = { metadata: { name: 'n1', labels: { a: 'b' }, uid: 'x', resourceVersion: '5' } };
  assert.deepEqual(nodeMetricsObject(node, { ...r, usage: { cpuNanoCores: 1e8, memoryBytes: 2048 } }, now), {
    kind: 'NodeMetrics',
    apiVersion: 'metrics.k8s.io/v1beta1',
    metadata: { name: 'n1', creationTimestamp: '2026-01-01T00:00:30Z', labels: { a: 'b' } },
    timestamp: '2026-01-01T00:00:20Z',
    window: '15s',
    usage: { cpu: '100m', memory: '2Ki' },
  });
  const pod = { metadata: { name: 'p', namespace: 'ns' } };
  const pm = podMetricsObject(
    pod,
    { ...r, containers: [{ name: 'c', usage: { cpuNanoCores: 5, memoryBytes: 1024 } }] },
    now,
  );
  assert.deepEqual(pm.metadata, { name: 'p', namespace: 'ns', creationTimestamp: '2026-01-01T00:00:30Z' });
  assert.deepEqual(pm['containers'], [{ name: 'c', usage: { cpu: '5n', memory: '1Ki' } }]);
  assert.equal(pm.kind, 'PodMetrics');
});
