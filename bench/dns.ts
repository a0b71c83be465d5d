/**
 * Cluster DNS latency (issue 6): p50/p99 of A queries for a service name sent from inside a pod's
 * network namespace to 10.96.0.10 at a fixed 200 queries/s for 30 s, on a 1-node Docker cluster. The
 * sender is a small Node.js script run by the node's Node.js in the pod's netns (busybox has no load
 * generator); it paces by the clock, so a slow answer does not lower the rate. Only cluster names are
 * asked (network safety). BENCH_DNS_QPS (default 200), BENCH_DNS_SECONDS (30).
 */
import { spawnSync } from 'node:child_process';
import Docker from 'dockerode';
import type { KObject } from '../core/api/object.ts';
import { ensureNodeImages } from '../core/nodes/docker/images.ts';
import { startBerth } from './berth-process.ts';
import {
  benchClusterName,
  kubeClient,
  loadBusybox,
  removeCluster,
  sleeperPod,
  timePodsRunning,
} from './docker-nodes.ts';
import { table } from './util.ts';

const qps = Number(process.env['BENCH_DNS_QPS'] ?? 200);
const seconds = Number(process.env['BENCH_DNS_SECONDS'] ?? 30);

/** Runs in the pod's netns: paced UDP queries, prints a JSON summary of latencies (ms). */
const loadScript = (name: string): string => `
import { createSocket } from 'node:dgram';
const qps = ${qps}, seconds = ${seconds}, name = ${JSON.stringify(name)};
function query(id) {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const head = Buffer.alloc(12); head.writeUInt16BE(id, 0); head.writeUInt16BE(0x0100, 2); head.writeUInt16BE(1, 4);
  return Buffer.concat([head, ...labels, Buffer.from([0, 0, 1, 0, 1])]);
}
const sock = createSocket('udp4');
const sent = new Map(); const lat = []; let bad = 0;
sock.on('message', (m) => {
  const id = m.readUInt16BE(0); const t = sent.get(id); if (t === undefined) return;
  sent.delete(id);
  if ((m.readUInt16BE(2) & 0xf) !== 0 || m.readUInt16BE(6) < 1) bad++;
  lat.push(Number(process.hrtime.bigint() - t) / 1e6);
});
const total = qps * seconds; const start = process.hrtime.bigint(); let n = 0;
await new Promise((resolve) => {
  const tick = () => {
    const due = Math.min(total, Math.floor(Number(process.hrtime.bigint() - start) / 1e9 * qps) + 1);
    while (n < due) { const id = n % 65536; sent.set(id, process.hrtime.bigint()); sock.send(query(id), 53, '10.96.0.10'); n++; }
    if (n >= total) resolve(); else setTimeout(tick, 2);
  };
  tick();
});
await new Promise((r) => setTimeout(r, 2000));
sock.close();
const wall = Number(process.hrtime.bigint() - start) / 1e9 - 2;
lat.sort((a, b) => a - b);
const pct = (p) => lat[Math.min(lat.length - 1, Math.max(0, Math.ceil(p / 100 * lat.length) - 1))];
console.log(JSON.stringify({ sent: n, answered: lat.length, lost: sent.size, bad, rate: n / wall, p50: pct(50), p99: pct(99), max: lat[lat.length - 1] }));
`;

function nodeSh(container: string, script: string, input?: string): string {
  const r = spawnSync('docker', ['exec', '-i', container, 'sh', '-c', script], {
    encoding: 'utf8',
    input,
    timeout: (seconds + 60) * 1000,
  });
  if (r.status !== 0) throw new Error(`${script}: ${r.stderr}`);
  return r.stdout;
}

async function main(): Promise<void> {
  await ensureNodeImages(new Docker());
  const name = benchClusterName('dns');
  const berth = await startBerth(['--driver', 'docker', '--nodes', '1', '--name', name], 300_000);
  const node = `${name}-worker-1`;
  const container = `berth-${name}.${node}`;
  try {
    loadBusybox(berth.dataDir);
    const client = kubeClient(berth.kubeconfig);
    const svc: KObject = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kubia', namespace: 'default' },
      spec: { selector: { app: 'kubia' }, ports: [{ name: 'http', port: 80 }] },
    };
    await client.create({ group: '', version: 'v1', resource: 'services' }, 'default', svc);
    await timePodsRunning(client, 'default', [sleeperPod('default', 'dns-client', node)]);
    const pod = await client.get({ group: '', version: 'v1', resource: 'pods' }, 'default', 'dns-client');
    const podIP = (pod['status'] as { podIP?: string }).podIP;
    if (!podIP) throw new Error('the client pod has no IP');
    // The pod's network namespace: the CNI netns whose interface holds the pod IP.
    const netns = nodeSh(
      container,
      `for n in $(ip netns list | cut -d' ' -f1); do ip netns exec $n ip -4 -o addr | grep -q " ${podIP}/" && echo $n; done`,
    ).trim();
    if (!netns) throw new Error(`no netns holds ${podIP}`);
    nodeSh(container, 'cat > /tmp/dns-load.mjs', loadScript('kubia.default.svc.cluster.local'));
    const r = JSON.parse(nodeSh(container, `ip netns exec ${netns} node /tmp/dns-load.mjs`)) as Record<
      string,
      number
    >;
    const f = (x: number | undefined): string => (x === undefined ? '-' : `${x.toFixed(2)} ms`);
    console.log(
      `Cluster DNS from a pod: A kubia.default.svc.cluster.local, ${qps} q/s for ${seconds} s (${new Date().toISOString()})`,
    );
    console.log(
      table([
        ['sent', 'answered', 'lost', 'errors', 'rate q/s', 'p50', 'p99', 'max'],
        [
          r['sent']!,
          r['answered']!,
          r['lost']!,
          r['bad']!,
          r['rate']!.toFixed(1),
          f(r['p50']),
          f(r['p99']),
          f(r['max']),
        ],
      ]),
    );
    client.close();
  } finally {
    await berth.stop();
    await removeCluster(name);
  }
}

await main();
