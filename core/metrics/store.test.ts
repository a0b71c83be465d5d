import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../api/object.ts';
import { StatusError } from '../api/status.ts';
import { MetricsStore } from './store.ts';

const node = (name: string, labels: Record<string, string> = {}): KObject => ({ metadata: { name, labels } });
const pod = (ns: string, name: string, uid: string, labels: Record<string, string> = {}): KObject => ({
  metadata: { namespace: ns, name, uid, labels },
});
const usage = (cpu: number, mem: number): { cpuNanoCores: number; memoryBytes: number } => ({
  cpuNanoCores: cpu,
  memoryBytes: mem,
});

function fixture(nowMs = Date.parse('2026-01-01T00:01:00Z')): { store: MetricsStore; clock: { ms: number } } {
  const clock = { ms: nowMs };
  const nodes = [
    node('n1', { zone: 'a' }),
    node('n2', { zone: 'b' }),
    node('sim', { 'berth.dev/simulated': 'true' }),
  ];
  const pods = [
    pod('default', 'web-1', 'u1', { app: 'web' }),
    pod('default', 'db-1', 'u2', { app: 'db' }),
    pod('other', 'web-2', 'u3', { app: 'web' }),
    pod('default', 'fresh', 'u4'),
  ];
  const store = new MetricsStore(
    { nodes: () => nodes, pods: (ns) => pods.filter((p) => ns === undefined || p.metadata.namespace === ns) },
    { now: () => new Date(clock.ms), maxAgeMs: 60_000 },
  );
  const ts = new Date(clock.ms - 5_000);
  const podUsage = (
    ns: string,
    name: string,
    uid: string,
    cpu: number,
  ): {
    namespace: string;
    name: string;
    uid: string;
    timestamp: Date;
    windowMs: number;
    containers: { name: string; usage: { cpuNanoCores: number; memoryBytes: number } }[];
  } => ({
    namespace: ns,
    name,
    uid,
    timestamp: ts,
    windowMs: 15_000,
    containers: [{ name: 'c', usage: usage(cpu, 1024) }],
  });
  store.record('n1', {
    node: { timestamp: ts, windowMs: 15_000, usage: usage(250e6, 1 << 30) },
    pods: [podUsage('default', 'web-1', 'u1', 1e8), podUsage('default', 'db-1', 'u2', 2e8)],
  });
  // A pod with the same name as a deleted one: the usage of an old uid is not its usage.
  store.record('n2', {
    node: { timestamp: ts, windowMs: 15_000, usage: usage(5e6, 2 << 20) },
    pods: [podUsage('other', 'web-2', 'u3', 3e8), podUsage('default', 'fresh', 'old-uid', 9e8)],
  });
  return { store, clock };
}

test('node metrics: only nodes with usage (never the simulated one), label and name selection', () => {
  const { store } = fixture();
  const all = store.nodeMetrics();
  assert.deepEqual(
    all.map((o) => [o.metadata.name, (o['usage'] as { cpu: string }).cpu]),
    [
      ['n1', '250m'],
      ['n2', '5m'],
    ],
  );
  assert.deepEqual(all[0]?.metadata.labels, { zone: 'a' });
  assert.deepEqual(
    store.nodeMetrics('zone=b').map((o) => o.metadata.name),
    ['n2'],
  );
  assert.deepEqual(
    store.nodeMetrics(undefined, 'metadata.name=n1').map((o) => o.metadata.name),
    ['n1'],
  );
  assert.deepEqual(store.nodeMetrics('berth.dev/simulated=true'), []);
});

test('pod metrics: namespace, all namespaces, label selectors, uid match', () => {
  const { store } = fixture();
  const names = (l: KObject[]): string[] => l.map((o) => `${o.metadata.namespace}/${o.metadata.name}`);
  assert.deepEqual(names(store.podMetrics('default')), ['default/db-1', 'default/web-1']);
  assert.deepEqual(names(store.podMetrics()), ['default/db-1', 'default/web-1', 'other/web-2']);
  assert.deepEqual(names(store.podMetrics(undefined, 'app=web')), ['default/web-1', 'other/web-2']);
  assert.deepEqual(names(store.podMetrics('default', 'app in (db)')), ['default/db-1']);
  assert.deepEqual(names(store.podMetrics(undefined, undefined, 'metadata.namespace=other')), [
    'other/web-2',
  ]);
  assert.throws(
    () => store.podMetrics(undefined, undefined, 'spec.nodeName=n1'),
    (e: unknown) => e instanceof StatusError && e.code === 400,
  );
  assert.throws(() => store.podMetrics(undefined, 'app in web'), StatusError);
});

test('usage stops being served when a node is forgotten or its data is stale', () => {
  const { store, clock } = fixture();
  store.forgetNode('n2');
  assert.deepEqual(
    store.nodeMetrics().map((o) => o.metadata.name),
    ['n1'],
  );
  assert.equal(store.podMetrics('other').length, 0);
  clock.ms += 61_000;
  assert.deepEqual(store.nodeMetrics(), []);
  assert.deepEqual(store.podMetrics(), []);
});
