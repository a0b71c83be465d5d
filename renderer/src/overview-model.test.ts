import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../electron/contract.ts';
import { nodeMetricsUsage, nodeUsage, parseQuantity, percent, recentWarnings } from './overview-model.ts';

const obj = (o: Record<string, unknown>): KubeObject => o as unknown as KubeObject;

test('parseQuantity: decimal and binary suffixes, millicores, malformed', () => {
  assert.equal(parseQuantity('250m'), 0.25);
  assert.equal(parseQuantity('2'), 2);
  assert.equal(parseQuantity('1Gi'), 2 ** 30);
  assert.equal(parseQuantity('1.5G'), 1.5e9);
  assert.equal(parseQuantity(undefined), 0);
  assert.ok(Number.isNaN(parseQuantity('12Q')));
});

test('nodeUsage: requests of non-terminated pods vs allocatable, init containers by max, pods per phase', () => {
  const nodes = [
    obj({
      metadata: { name: 'n1' },
      status: {
        allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
        conditions: [{ type: 'Ready', status: 'True' }],
      },
    }),
  ];
  const pod = (name: string, phase: string, cpu: string, init?: string): KubeObject =>
    obj({
      metadata: { name, namespace: 'default' },
      spec: {
        nodeName: 'n1',
        containers: [{ name: 'a', resources: { requests: { cpu, memory: '1Gi' } } }],
        ...(init ? { initContainers: [{ name: 'i', resources: { requests: { cpu: init } } }] } : {}),
      },
      status: { phase },
    });
  const [u] = nodeUsage(nodes, [
    pod('a', 'Running', '500m'),
    pod('b', 'Pending', '100m', '1'),
    pod('c', 'Succeeded', '1'),
  ]);
  assert.ok(u);
  assert.equal(u.status, 'Ready');
  assert.equal(u.pods, 2);
  assert.equal(u.requested.cpu, 1.5);
  assert.equal(u.requested.memory, 2 * 2 ** 30);
  assert.deepEqual(u.phases, { Running: 1, Pending: 1, Succeeded: 1 });
  assert.equal(percent(u.requested.cpu, u.allocatable.cpu), '75%');
});

test('recentWarnings: only Warnings, newest first', () => {
  const ev = (name: string, type: string, t: string): KubeObject =>
    obj({
      metadata: { name, namespace: 'default' },
      type,
      reason: 'R',
      message: name,
      lastTimestamp: t,
      involvedObject: { kind: 'Pod', name: 'p' },
    });
  const w = recentWarnings([
    ev('old', 'Warning', '2026-01-01T00:00:00Z'),
    ev('normal', 'Normal', '2026-01-03T00:00:00Z'),
    ev('new', 'Warning', '2026-01-02T00:00:00Z'),
  ]);
  assert.deepEqual(
    w.map((x) => x.message),
    ['new', 'old'],
  );
  assert.equal(w[0]?.object, 'pod/p');
});

test('nodeUsage: actual usage from NodeMetrics where the metrics API has it', () => {
  const node = (name: string): KubeObject =>
    obj({ metadata: { name }, status: { allocatable: { cpu: '2', memory: '4Gi', pods: '110' } } });
  const used = nodeMetricsUsage([
    obj({
      apiVersion: 'metrics.k8s.io/v1beta1',
      kind: 'NodeMetrics',
      metadata: { name: 'n1' },
      usage: { cpu: '123456789n', memory: '1048576Ki' },
    }),
    obj({ metadata: { name: 'bad' }, usage: { cpu: 'x', memory: '1' } }),
  ]);
  assert.deepEqual([...used.keys()], ['n1']);
  const [n1, n2] = nodeUsage([node('n1'), node('n2')], [], used);
  assert.ok(Math.abs((n1?.used?.cpu ?? 0) - 0.123456789) < 1e-12);
  assert.equal(n1?.used?.memory, 2 ** 30);
  assert.equal(n2?.used, undefined);
  assert.equal(nodeUsage([node('n1')], [])[0]?.used, undefined);
});
