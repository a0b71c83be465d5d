import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../api/object.ts';
import {
  durationMs,
  groupPods,
  milliOf,
  podRequests,
  resourceAverageValueReplicas,
  resourceUtilizationReplicas,
  samplesFrom,
  type PodSamples,
} from './hpa-replicas.ts';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const iso = (msAgo: number): string => new Date(NOW - msAgo).toISOString();

/** A Running pod, Ready since long ago, with a cpu and memory request per container. */
function pod(
  name: string,
  opts: { phase?: string; ready?: boolean; startedAgo?: number; readyAgo?: number; cpu?: string } = {},
): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: {
      containers: [
        {
          name: 'app',
          resources: { requests: opts.cpu === '' ? {} : { cpu: opts.cpu ?? '100m', memory: '64Mi' } },
        },
      ],
    },
    status: {
      phase: opts.phase ?? 'Running',
      startTime: iso(opts.startedAgo ?? 3_600_000),
      conditions: [
        {
          type: 'Ready',
          status: opts.ready === false ? 'False' : 'True',
          lastTransitionTime: iso(opts.readyAgo ?? 3_500_000),
        },
      ],
    },
  };
}

const samples = (values: Record<string, number>, ago = 1000): PodSamples =>
  new Map(Object.entries(values).map(([n, v]) => [n, { value: v, timestamp: NOW - ago, windowMs: 15_000 }]));

test('quantities and durations as upstream reads them', () => {
  assert.equal(milliOf('250m'), 250);
  assert.equal(milliOf('1'), 1000);
  assert.equal(milliOf('123456789n'), 124, 'rounded up like MilliValue');
  assert.equal(milliOf('64Mi'), 64 * 1024 * 1024 * 1000);
  assert.equal(milliOf('three'), undefined);
  assert.equal(durationMs('15s'), 15_000);
  assert.equal(durationMs('1m0s'), 60_000);
  assert.equal(durationMs('15.5s'), 15_500);
  assert.equal(durationMs('500ms'), 500);
  assert.equal(durationMs('soon'), undefined);
});

test('PodMetrics → per-pod samples: containers summed, or one container', () => {
  const pm: KObject[] = [
    {
      apiVersion: 'metrics.k8s.io/v1beta1',
      kind: 'PodMetrics',
      metadata: { name: 'a', namespace: 'default' },
      timestamp: iso(2000),
      window: '15s',
      containers: [
        { name: 'app', usage: { cpu: '150000000n', memory: '10Mi' } },
        { name: 'side', usage: { cpu: '50m', memory: '1Mi' } },
      ],
    },
  ];
  const all = samplesFrom(pm, 'cpu');
  assert.deepEqual(all.get('a'), { value: 200, timestamp: NOW - 2000, windowMs: 15_000 });
  assert.equal(samplesFrom(pm, 'cpu', 'side').get('a')?.value, 50);
  assert.equal(samplesFrom(pm, 'cpu', 'other').size, 0);
});

test('utilization: 2 pods at 100m of 100m against 50 % → 4 replicas', () => {
  const pods = [pod('a'), pod('b')];
  const r = resourceUtilizationReplicas(2, 50, 'cpu', pods, samples({ a: 100, b: 100 }), { now: NOW });
  assert.deepEqual(r, { replicas: 4, utilization: 100, average: 100 });
});

test('within the 10 % tolerance the count stays', () => {
  const pods = [pod('a'), pod('b')];
  const r = resourceUtilizationReplicas(2, 50, 'cpu', pods, samples({ a: 54, b: 54 }), { now: NOW });
  assert.equal(r.replicas, 2);
  assert.equal(r.utilization, 54);
});

test('scale down: 4 pods at 10 % of a 50 % target → 1', () => {
  const pods = ['a', 'b', 'c', 'd'].map((n) => pod(n));
  const r = resourceUtilizationReplicas(4, 50, 'cpu', pods, samples({ a: 10, b: 10, c: 10, d: 10 }), {
    now: NOW,
  });
  assert.equal(r.replicas, 1);
});

test('missing metrics: counted at 100 % on a scale-down, which can cancel it; at 0 % on a scale-up', () => {
  const pods = [pod('a'), pod('b'), pod('c')];
  // a and b idle at 20 % (scale down by themselves); c has no metrics and counts as 100 % → ratio
  // (20+20+100)/300 = 46.7 % vs 50 % → within tolerance: keep 3.
  const down = resourceUtilizationReplicas(3, 50, 'cpu', pods, samples({ a: 20, b: 20 }), { now: NOW });
  assert.equal(down.replicas, 3);
  // a and b at 200 %: scale up; c at 0 % → (200+200+0)/300 = 133 % / 50 % = 2.67 × 3 = 8.
  const up = resourceUtilizationReplicas(3, 50, 'cpu', pods, samples({ a: 200, b: 200 }), { now: NOW });
  assert.equal(up.replicas, 8);
});

test('Pending pods are ignored, and count as 0 % only when scaling up', () => {
  const pods = [pod('a'), pod('b', { phase: 'Pending' })];
  const up = resourceUtilizationReplicas(2, 50, 'cpu', pods, samples({ a: 100 }), { now: NOW });
  // (100 + 0) / 200 = 50 % → exactly on target: keep.
  assert.equal(up.replicas, 2);
  const upMore = resourceUtilizationReplicas(2, 50, 'cpu', pods, samples({ a: 300 }), { now: NOW });
  // (300 + 0)/200 = 150 % / 50 % = 3 × 2 = 6
  assert.equal(upMore.replicas, 6);
});

test('cpu: a pod still initialising and unready is ignored; memory counts it', () => {
  const pods = [pod('a'), pod('b', { startedAgo: 20_000, ready: false, readyAgo: 20_000 })];
  const g = groupPods(pods, samples({ a: 10, b: 10 }), 'cpu', { now: NOW });
  assert.deepEqual([...g.ignored], ['b']);
  assert.equal(g.readyPodCount, 1);
  const m = groupPods(pods, samples({ a: 10, b: 10 }), 'memory', { now: NOW });
  assert.equal(m.ignored.size, 0);
  assert.equal(m.readyPodCount, 2);
  // Ready but its sample predates a full window since it turned ready: ignored too.
  const fresh = [pod('c', { startedAgo: 20_000, readyAgo: 5_000 })];
  assert.deepEqual([...groupPods(fresh, samples({ c: 10 }, 1000), 'cpu', { now: NOW }).ignored], ['c']);
});

test('deleted and Failed pods do not count; no pods at all is an error', () => {
  const gone = pod('a');
  gone.metadata.deletionTimestamp = iso(1000);
  const failed = pod('b', { phase: 'Failed' });
  const g = groupPods([gone, failed, pod('c')], samples({ a: 1, b: 1, c: 1 }), 'cpu', { now: NOW });
  assert.equal(g.readyPodCount, 1);
  assert.throws(
    () => resourceUtilizationReplicas(1, 50, 'cpu', [], samples({}), { now: NOW }),
    /no pods returned by selector/,
  );
});

test("a container without a request: upstream's message", () => {
  assert.throws(
    () => podRequests([pod('a', { cpu: '' })], 'cpu'),
    /missing request for cpu in container app of Pod a/,
  );
});

test('AverageValue: 3 pods averaging 300m against 100m → 9', () => {
  const pods = [pod('a'), pod('b'), pod('c')];
  const r = resourceAverageValueReplicas(3, 100, 'cpu', pods, samples({ a: 300, b: 300, c: 300 }), {
    now: NOW,
  });
  assert.deepEqual(r, { replicas: 9, average: 300 });
});
