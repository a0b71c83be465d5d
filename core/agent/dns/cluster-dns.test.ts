/**
 * Cluster DNS over a real (in-process) control plane: the agent's reflectors follow Services and
 * EndpointSlices as they change, and the bootstrap kube-dns Service names the DNS address. Served on
 * loopback with an ephemeral port; no address is put on this machine and nothing is forwarded.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as packet from 'dns-packet';
import type { DecodedPacket } from 'dns-packet';
import { startCluster, type RunningCluster } from '../../cluster/cluster.ts';
import type { KubeClient, ResourceRef } from '../../client/types.ts';
import { waitFor } from '../../testing/wait.ts';
import { startClusterDns, type ClusterDns } from './cluster-dns.ts';
import { reverseName } from './names.ts';

const SVC: ResourceRef = { group: '', version: 'v1', resource: 'services' };
const SLICES: ResourceRef = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' };
let dir: string;
let cluster: RunningCluster;
let client: KubeClient;
let dns: ClusterDns;
let port: number;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-dns-'));
  cluster = await startCluster({ dataDir: dir, apiPort: 0, disableScheduler: true });
  client = cluster.controllerClient.asKubeClient();
  dns = startClusterDns({
    client,
    clusterDomain: 'cluster.local',
    addresses: ['127.0.0.1'],
    serviceCIDR: '10.96.0.0/12',
    clusterCIDR: '10.244.0.0/16',
    log: () => undefined,
    port: 0,
    assignAddresses: false,
    resolvConf: '',
  });
  port = await dns.ready;
});
after(async () => {
  await dns?.stop();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

let id = 1;
function ask(name: string, type: string): Promise<DecodedPacket> {
  const q = packet.encode({
    id: id++,
    type: 'query',
    flags: packet.RECURSION_DESIRED,
    questions: [{ name, type: type as 'A' }],
  });
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const t = setTimeout(() => (s.close(), reject(new Error('no answer'))), 3000);
    s.on('message', (m) => (clearTimeout(t), s.close(), resolve(packet.decode(m))));
    s.send(q, port, '127.0.0.1');
  });
}
const rcode = (p: DecodedPacket): string => (p as unknown as { rcode: string }).rcode;
const data = (p: DecodedPacket): unknown[] =>
  (p.answers ?? []).map((a) => ('data' in a ? a.data : undefined));

test('kube-dns: created at bootstrap, node-local, answered by the DNS itself (A and PTR)', async () => {
  const svc = await client.get(SVC, 'kube-system', 'kube-dns');
  assert.equal(svc.metadata.labels?.['berth.dev/node-local'], 'true');
  const spec = svc['spec'] as {
    clusterIP: string;
    selector?: unknown;
    ports: { name: string; protocol: string; port: number }[];
  };
  assert.equal(spec.clusterIP, '10.96.0.10');
  assert.equal(spec.selector, undefined);
  assert.deepEqual(
    spec.ports.map((p) => `${p.name}/${p.port}/${p.protocol}`),
    ['dns/53/UDP', 'dns-tcp/53/TCP'],
  );
  assert.deepEqual(data(await ask('kube-dns.kube-system.svc.cluster.local', 'A')), ['10.96.0.10']);
  assert.deepEqual(data(await ask(reverseName('10.96.0.10')!, 'PTR')), [
    'kube-dns.kube-system.svc.cluster.local',
  ]);
});

test('services and endpoint slices are followed as they come and go', async () => {
  const created = await client.create(SVC, 'default', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kubia' },
    spec: { ports: [{ name: 'http', port: 80 }], selector: { app: 'kubia' } },
  });
  const ip = (created['spec'] as { clusterIP: string }).clusterIP;
  await waitFor(
    'kubia in DNS',
    async () => data(await ask('kubia.default.svc.cluster.local', 'A'))[0] === ip,
  );
  const srv = await ask('_http._tcp.kubia.default.svc.cluster.local', 'SRV');
  assert.equal((data(srv)[0] as { port: number }).port, 80);

  await client.create(SVC, 'default', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'db' },
    spec: { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] },
  });
  await client.create(SLICES, 'default', {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'db-manual', labels: { 'kubernetes.io/service-name': 'db' } },
    addressType: 'IPv4',
    ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
    endpoints: [{ addresses: ['10.244.7.7'], hostname: 'db-0', conditions: { ready: true } }],
  });
  await waitFor(
    'db-0 in DNS',
    async () => data(await ask('db-0.db.default.svc.cluster.local', 'A'))[0] === '10.244.7.7',
  );
  assert.deepEqual(data(await ask('db.default.svc.cluster.local', 'A')), ['10.244.7.7']);

  await client.delete(SVC, 'default', 'kubia');
  await waitFor(
    'kubia gone',
    async () => rcode(await ask('kubia.default.svc.cluster.local', 'A')) === 'NXDOMAIN',
  );
  assert.equal(dns.stats.nxdomain >= 1, true);
});

test('without an upstream, names outside the cluster fail (SERVFAIL) and nothing leaves loopback', async () => {
  const r = await ask('www.example.test', 'A');
  assert.equal(rcode(r), 'SERVFAIL');
  assert.ok(dns.stats.servfail >= 1);
});
