import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeUsage, rate, snapshotOf } from './rates.ts';
import type { Summary } from './summary.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (ms: number): string => new Date(T0 + ms).toISOString();

function summary(
  ms: number,
  nodeCpuNs: number,
  containers: { name: string; start: number; cpu: number; mem: number }[],
): Summary {
  return {
    node: {
      nodeName: 'n1',
      cpu: { time: at(ms), usageCoreNanoSeconds: nodeCpuNs },
      memory: { time: at(ms), workingSetBytes: 500 * 1024 * 1024 },
    },
    pods: [
      {
        podRef: { namespace: 'default', name: 'p', uid: 'u1' },
        containers: containers.map((c) => ({
          name: c.name,
          startTime: at(c.start),
          cpu: { time: at(ms), usageCoreNanoSeconds: c.cpu },
          memory: { time: at(ms), workingSetBytes: c.mem },
        })),
      },
    ],
  };
}

test('cpu is the counter increase over the window, in nanocores', () => {
  const r = rate({ timeMs: 0, cpuNs: 1e9, memoryBytes: 1 }, { timeMs: 15_000, cpuNs: 4e9, memoryBytes: 7 });
  assert.ok(r);
  assert.equal(r.usage.cpuNanoCores, 200_000_000); // 3 s of cpu over 15 s = 200m
  assert.equal(r.usage.memoryBytes, 7);
  assert.equal(r.windowMs, 15_000);
  assert.equal(r.timestamp.getTime(), 15_000);
  assert.equal(
    rate({ timeMs: 10, cpuNs: 5, memoryBytes: 0 }, { timeMs: 10, cpuNs: 9, memoryBytes: 0 }),
    undefined,
  );
  assert.equal(
    rate({ timeMs: 0, cpuNs: 9, memoryBytes: 0 }, { timeMs: 10, cpuNs: 5, memoryBytes: 0 }),
    undefined,
  );
});

test('two snapshots give node and container usage; one gives none for old containers', () => {
  const s1 = snapshotOf(summary(0, 10e9, [{ name: 'c', start: -60_000, cpu: 2e9, mem: 1024 }]), T0);
  const first = computeUsage(undefined, s1);
  assert.equal(first.node, undefined);
  assert.deepEqual(first.pods, []);
  const s2 = snapshotOf(
    summary(10_000, 15e9, [{ name: 'c', start: -60_000, cpu: 3e9, mem: 2048 }]),
    T0 + 10_000,
  );
  const second = computeUsage(s1, s2);
  assert.equal(second.node?.usage.cpuNanoCores, 500_000_000);
  assert.equal(second.node?.usage.memoryBytes, 500 * 1024 * 1024);
  assert.equal(second.pods.length, 1);
  assert.deepEqual(second.pods[0]?.containers, [
    { name: 'c', usage: { cpuNanoCores: 100_000_000, memoryBytes: 2048 } },
  ]);
  assert.equal(second.pods[0]?.windowMs, 10_000);
});

test('a container started since the previous scrape counts from its start; a restart before that waits', () => {
  const s1 = snapshotOf(summary(0, 0, []), T0);
  // Started 2 s after the previous scrape, 1 s of cpu by t = 6 s: 250m over its 4 s.
  const s2 = snapshotOf(summary(6_000, 1e9, [{ name: 'c', start: 2_000, cpu: 1e9, mem: 10 }]), T0 + 6_000);
  const u = computeUsage(s1, s2);
  assert.equal(u.pods[0]?.containers[0]?.usage.cpuNanoCores, 250_000_000);
  assert.equal(u.pods[0]?.windowMs, 4_000);
  // Same name, other start time, started before the previous scrape: no usage yet.
  const s3 = snapshotOf(summary(12_000, 2e9, [{ name: 'c', start: 5_000, cpu: 1e8, mem: 10 }]), T0 + 12_000);
  const s4 = snapshotOf(summary(20_000, 3e9, [{ name: 'c', start: 1_000, cpu: 5e8, mem: 10 }]), T0 + 20_000);
  assert.deepEqual(computeUsage(s3, s4).pods, []);
});

test('a pod is reported only when every container has usage', () => {
  const s1 = snapshotOf(summary(0, 0, [{ name: 'a', start: -5_000, cpu: 1e9, mem: 1 }]), T0);
  const s2 = snapshotOf(
    summary(10_000, 1e9, [
      { name: 'a', start: -5_000, cpu: 2e9, mem: 1 },
      { name: 'b', start: -5_000, cpu: 1e9, mem: 1 },
    ]),
    T0 + 10_000,
  );
  assert.deepEqual(computeUsage(s1, s2).pods, []);
});
