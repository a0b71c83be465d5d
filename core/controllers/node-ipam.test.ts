import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KObject } from '../api/object.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';
import { startCluster } from '../cluster/cluster.ts';
import type { SimulatedNodeDriver } from '../nodes/simulated/driver.ts';
import { CidrSet } from './node-ipam.ts';
import { waitFor } from '../testing/wait.ts';

const NODES: ResourceRef = { group: '', version: 'v1', resource: 'nodes' };
const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
const EVENTS: ResourceRef = { group: '', version: 'v1', resource: 'events' };
const SA: ResourceRef = { group: '', version: 'v1', resource: 'serviceaccounts' };

const specOf = (n: KObject): { podCIDR?: string; podCIDRs?: string[] } =>
  (n['spec'] ?? {}) as { podCIDR?: string; podCIDRs?: string[] };
const cidrsByNode = (client: InProcessClient): Map<string, string | undefined> =>
  new Map(client.list(NODES, '').items.map((n) => [n.metadata.name ?? '', specOf(n).podCIDR]));

test('unit: CidrSet carves /24s round robin, occupies and releases', () => {
  const s = new CidrSet('10.244.0.0/16', 24);
  assert.equal(s.size, 256);
  assert.equal(s.allocateNext(), '10.244.0.0/24');
  assert.ok(s.occupy('10.244.1.0/24'));
  assert.equal(s.allocateNext(), '10.244.2.0/24');
  assert.ok(!s.occupy('10.245.0.0/24'), 'outside the range');
  assert.ok(!s.occupy('10.244.3.0/25'), 'wrong size');
  s.release('10.244.0.0/24');
  assert.equal(s.allocateNext(), '10.244.3.0/24', 'round robin from the last allocation');
  const small = new CidrSet('10.0.0.0/23', 24);
  assert.equal(small.allocateNext(), '10.0.0.0/24');
  assert.equal(small.allocateNext(), '10.0.1.0/24');
  assert.equal(small.allocateNext(), undefined);
});

test('IPAM: distinct /24 per node from 10.244.0.0/16, pod IPs inside, stable across restarts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-ipam-'));
  const opts = {
    dataDir: dir,
    apiPort: 0,
    driver: 'simulated' as const,
    nodes: 3,
    simulated: { leaseIntervalMs: 1000, statusIntervalMs: 1000 },
  };
  let cluster = await startCluster(opts);
  try {
    let client = cluster.controllerClient;
    const first = await waitFor('3 nodes with CIDRs', () => {
      const m = cidrsByNode(client);
      return m.size === 3 && [...m.values()].every(Boolean) && m;
    });
    const values = [...first.values()] as string[];
    assert.equal(new Set(values).size, 3, 'distinct');
    for (const c of values) assert.match(c, /^10\.244\.\d{1,3}\.0\/24$/);
    for (const n of client.list(NODES, '').items) assert.deepEqual(specOf(n).podCIDRs, [specOf(n).podCIDR]);

    // Pods get IPs from their node's CIDR (the simulated kubelet honours spec.podCIDR).
    await waitFor('default service account', () => client.get(SA, 'default', 'default'));
    const node1 = [...first.keys()][1]!;
    client.create(PODS, 'default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'default' },
      spec: { nodeName: node1, containers: [{ name: 'c', image: 'nginx' }] },
    });
    const ip = await waitFor(
      'pod IP',
      () => (client.get(PODS, 'default', 'p')['status'] as { podIP?: string }).podIP,
    );
    assert.equal(ip.split('.').slice(0, 3).join('.'), first.get(node1)!.split('.').slice(0, 3).join('.'));

    // Restart: the same CIDRs, and a new node does not collide.
    await cluster.stop();
    cluster = await startCluster(opts);
    client = cluster.controllerClient;
    assert.deepEqual(cidrsByNode(client), first);
    const driver = cluster.driver as SimulatedNodeDriver;
    await driver.create({ name: 'extra' });
    const extra = await waitFor('extra CIDR', () => specOf(client.get(NODES, '', 'extra')).podCIDR);
    assert.ok(!values.includes(extra), `${extra} is new`);
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('IPAM: CIDRNotAvailable when the range is exhausted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-ipam2-'));
  writeFileSync(
    join(dir, 'cluster.json'),
    JSON.stringify({
      name: 'small',
      apiPort: 0,
      serviceCIDR: '10.96.0.0/12',
      podCIDR: '10.244.0.0/23',
      createdAt: new Date().toISOString(),
    }),
  );
  const cluster = await startCluster({ dataDir: dir, apiPort: 0 });
  try {
    const client = cluster.controllerClient;
    for (const name of ['a', 'b', 'c'])
      client.create(NODES, '', { apiVersion: 'v1', kind: 'Node', metadata: { name } });
    await waitFor('two CIDRs', () => [...cidrsByNode(client).values()].filter(Boolean).length === 2);
    const without = [...cidrsByNode(client)].find(([, c]) => !c)?.[0];
    assert.ok(without);
    const ev = await waitFor('CIDRNotAvailable event', () =>
      client
        .list(EVENTS, 'default')
        .items.find(
          (e) =>
            e['reason'] === 'CIDRNotAvailable' && (e['involvedObject'] as { name?: string }).name === without,
        ),
    );
    assert.equal(ev['message'], `Node ${without} status is now: CIDRNotAvailable`);
    assert.equal(ev['type'], 'Normal');
    // Deleting a node makes room: the waiting node gets the freed CIDR.
    const holder = [...cidrsByNode(client)].find(([, c]) => c)!;
    client.delete(NODES, '', holder[0]);
    await waitFor(
      'waiting node allocated',
      () => specOf(client.get(NODES, '', without)).podCIDR === holder[1],
      5000,
    );
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
