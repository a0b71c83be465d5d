import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import type { Container } from './types.ts';
import {
  containerResources,
  milliCPUToQuota,
  milliCPUToShares,
  oomScoreAdj,
  qosClass,
  sandboxCgroupParent,
} from './resources.ts';

const GI = 1024 ** 3;

function pod(containers: Container[], extra: Record<string, unknown> = {}): KObject {
  return { metadata: { name: 'p', namespace: 'ns', uid: 'u-1' }, spec: { containers, ...extra } };
}

const guaranteed: Container = {
  name: 'g',
  resources: { requests: { cpu: '500m', memory: '256Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
};
const burstable: Container = { name: 'b', resources: { requests: { cpu: '100m', memory: '1Gi' } } };
const bestEffort: Container = { name: 'e' };

test('qosClass matches the API server, and prefers status.qosClass', () => {
  assert.equal(qosClass(pod([guaranteed])), 'Guaranteed');
  assert.equal(qosClass(pod([burstable])), 'Burstable');
  assert.equal(qosClass(pod([bestEffort])), 'BestEffort');
  assert.equal(qosClass(pod([guaranteed, bestEffort])), 'Burstable');
  assert.equal(qosClass({ ...pod([bestEffort]), status: { qosClass: 'Guaranteed' } }), 'Guaranteed');
});

test('CPU shares: 1024 per core from the request (the limit without one), minimum 2, maximum 262144', () => {
  assert.equal(milliCPUToShares(0), 2);
  assert.equal(milliCPUToShares(1), 2);
  assert.equal(milliCPUToShares(100), 102);
  assert.equal(milliCPUToShares(1000), 1024);
  assert.equal(milliCPUToShares(1_000_000), 262144);
  assert.equal(containerResources(pod([burstable]), burstable, { memoryCapacity: 4 * GI }).cpuShares, 102);
  const limitOnly: Container = { name: 'l', resources: { limits: { cpu: '2' } } };
  assert.equal(containerResources(pod([limitOnly]), limitOnly).cpuShares, 2048);
  const zeroRequest: Container = {
    name: 'z',
    resources: { requests: { cpu: '0' }, limits: { cpu: '500m' } },
  };
  assert.equal(containerResources(pod([zeroRequest]), zeroRequest).cpuShares, 512);
  assert.equal(containerResources(pod([bestEffort]), bestEffort).cpuShares, 2);
});

test('CFS quota over a 100 ms period from the CPU limit; memory limit in bytes', () => {
  assert.equal(milliCPUToQuota(0), 0);
  assert.equal(milliCPUToQuota(5), 1000);
  assert.equal(milliCPUToQuota(250), 25000);
  const r = containerResources(pod([guaranteed]), guaranteed, { memoryCapacity: 4 * GI });
  assert.deepEqual(r, {
    cpuShares: 512,
    cpuPeriod: 100000,
    cpuQuota: 50000,
    memoryLimitInBytes: 256 * 1024 * 1024,
    oomScoreAdj: -997,
  });
  const none = containerResources(pod([bestEffort]), bestEffort, { memoryCapacity: 4 * GI });
  assert.equal(none.memoryLimitInBytes, undefined);
  assert.equal(none.cpuQuota, 0);
  assert.equal(none.oomScoreAdj, 1000);
});

test('OOM score adjustment per QoS class and the Burstable formula', () => {
  const cap = 4 * GI;
  assert.equal(oomScoreAdj(pod([guaranteed]), guaranteed, cap), -997);
  assert.equal(oomScoreAdj(pod([bestEffort]), bestEffort, cap), 1000);
  // 1000 - 1000 * 1Gi / 4Gi = 750
  assert.equal(oomScoreAdj(pod([burstable]), burstable, cap), 750);
  // Requests close to the capacity are clamped to 3 (1000 + guaranteed adj).
  const big: Container = { name: 'x', resources: { requests: { memory: '4Gi' } } };
  assert.equal(oomScoreAdj(pod([big]), big, cap), 3);
  // No memory request in a Burstable pod: 999, not BestEffort's 1000.
  const cpuOnly: Container = { name: 'c', resources: { requests: { cpu: '1' } } };
  assert.equal(oomScoreAdj(pod([cpuOnly]), cpuOnly, cap), 999);
  // Node-critical pods are protected like Guaranteed ones.
  const critical = pod([burstable], { priorityClassName: 'system-node-critical', priority: 2000001000 });
  assert.equal(oomScoreAdj(critical, burstable, cap), -997);
});

test('sandbox cgroup parent per QoS class (cgroupfs)', () => {
  assert.equal(sandboxCgroupParent(pod([guaranteed])), '/kubepods/podu-1');
  assert.equal(sandboxCgroupParent(pod([burstable])), '/kubepods/burstable/podu-1');
  assert.equal(sandboxCgroupParent(pod([bestEffort])), '/kubepods/besteffort/podu-1');
});
