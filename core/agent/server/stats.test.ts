import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCa } from '../../pki/ca.ts';
import { issueClientCert, issueServingCert } from '../../pki/certs.ts';
import { httpsSummaryFetcher } from '../../metrics/fetch-summary.ts';
import type { Summary } from '../../metrics/summary.ts';
import type { StreamCri } from './containers.ts';
import { route, startAgentServer } from './server.ts';
import { nodeUsage, podUsage, timeOfNanos, type StatsCri } from './stats.ts';

const now = (): Date => new Date('2026-01-01T00:00:00.000Z');

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'berth-cgroup-'));
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), text);
  }
  return root;
}

test('node usage from cgroup v1: cpuacct.usage, usage_in_bytes minus total_inactive_file', async () => {
  const root = tree({
    'cpu,cpuacct/cpuacct.usage': '123456789\n',
    'memory/memory.usage_in_bytes': '1000000\n',
    'memory/memory.stat': 'cache 5\ninactive_file 7\ntotal_inactive_file 400000\n',
  });
  try {
    assert.deepEqual(await nodeUsage(root, now), {
      cpu: { time: '2026-01-01T00:00:00.000Z', usageCoreNanoSeconds: 123456789 },
      memory: { time: '2026-01-01T00:00:00.000Z', workingSetBytes: 600000 },
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('node usage from cgroup v2: cpu.stat usage_usec, memory.current minus inactive_file', async () => {
  const root = tree({
    'cgroup.controllers': 'cpu memory\n',
    'cpu.stat': 'usage_usec 2500\nuser_usec 2000\n',
    'memory.current': '9000\n',
    'memory.stat': 'anon 1\ninactive_file 10000\n',
  });
  try {
    const u = await nodeUsage(root, now);
    assert.equal(u.cpu?.usageCoreNanoSeconds, 2_500_000);
    assert.equal(u.memory?.workingSetBytes, 0); // never negative
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('pods from running containers joined with their CRI stats', async () => {
  const labels = (pod: string, c: string): Record<string, string> => ({
    'io.kubernetes.pod.uid': `uid-${pod}`,
    'io.kubernetes.pod.name': pod,
    'io.kubernetes.pod.namespace': 'ns',
    'io.kubernetes.container.name': c,
  });
  const container = (id: string, pod: string, c: string): Record<string, unknown> => ({
    id,
    podSandboxId: `sb-${pod}`,
    labels: labels(pod, c),
    createdAt: 1_767_225_600_500_000_000,
    state: 'CONTAINER_RUNNING',
  });
  const cri = {
    listContainers: () =>
      Promise.resolve([
        container('a', 'p1', 'main'),
        container('b', 'p1', 'side'),
        container('x', 'p2', 'gone'),
      ]),
    call: () =>
      Promise.resolve({
        stats: [
          {
            attributes: { id: 'a' },
            cpu: { timestamp: 1_767_225_610_000_000_000, usageCoreNanoSeconds: { value: 42 } },
            memory: { timestamp: 1_767_225_610_000_000_000, workingSetBytes: { value: 4096 } },
          },
          {
            attributes: { id: 'b' },
            cpu: { timestamp: 1_767_225_610_000_000_000, usageCoreNanoSeconds: { value: 7 } },
            memory: null,
          },
        ],
      }),
  } as unknown as StatsCri;
  const pods = await podUsage(cri);
  assert.equal(pods.length, 1);
  assert.deepEqual(pods[0]?.podRef, { name: 'p1', namespace: 'ns', uid: 'uid-p1' });
  assert.deepEqual(pods[0]?.containers[0], {
    name: 'main',
    startTime: timeOfNanos(1_767_225_600_500_000_000),
    cpu: { time: '2026-01-01T00:00:10.000000000Z', usageCoreNanoSeconds: 42 },
    memory: { time: '2026-01-01T00:00:10.000000000Z', workingSetBytes: 4096 },
  });
  assert.equal(pods[0]?.containers[1]?.memory, undefined);
});

test("GET /stats/summary over mutual TLS: the API server's fetcher reads it, another client cert is refused", async () => {
  assert.deepEqual(route(new URL('https://agent/stats/summary')), { kind: 'stats' });
  assert.equal(route(new URL('https://agent/stats/summary/x')), undefined);
  const ca = await createCa();
  const serving = await issueServingCert(ca, { commonName: 'system:node:n1', extraSANs: { dns: ['n1'] } });
  const summary: Summary = {
    node: { nodeName: 'n1', cpu: { time: '2026-01-01T00:00:00Z', usageCoreNanoSeconds: 5 } },
    pods: [],
  };
  const server = await startAgentServer({
    cri: {} as StreamCri,
    certPem: serving.certPem,
    keyPem: serving.keyPem,
    caPem: ca.certPem,
    host: '127.0.0.1',
    port: 0,
    log: () => undefined,
    summary: () => Promise.resolve(summary),
  });
  try {
    const target = { nodeName: 'n1', address: '127.0.0.1', port: server.port };
    const apiserver = await issueClientCert(ca, {
      user: 'kube-apiserver-kubelet-client',
      groups: ['system:masters'],
    });
    const signal = new AbortController().signal;
    const fetchAs = (c: { certPem: string; keyPem: string }): Promise<Summary> =>
      httpsSummaryFetcher({ caPem: ca.certPem, certPem: c.certPem, keyPem: c.keyPem })(target, signal);
    assert.deepEqual(await fetchAs(apiserver), summary);
    const node = await issueClientCert(ca, { user: 'system:node:n2', groups: ['system:nodes'] });
    await assert.rejects(fetchAs(node), /agent answered 403/);
  } finally {
    await server.stop();
  }
});
