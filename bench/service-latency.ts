/**
 * Service proxy latency (issue 6): HTTP request time from inside a pod's network namespace to a
 * ClusterIP service of 3 pods vs directly to those pods' IPs, in the same run (interleaved, a new TCP
 * connection per request, so every request passes the nat rules), on a 2-node Docker cluster; prints
 * p50/p99 for both and the ClusterIP/pod-IP ratio of the medians (target ≤ 1.2). The client is a small
 * Node.js script run by the node's Node.js in the pod's netns. BENCH_SVC_REQUESTS (default 600).
 *
 * Then rule programming: a 4th pod is created while the client polls the service (1 ms apart); the time
 * from that pod turning Running (as a watch sees it) to the client's first answer from it (target ≤ 1 s).
 * Node containers share the host's clock, so both timestamps are Date.now() of the same clock.
 */
import { spawn, spawnSync } from 'node:child_process';
import Docker from 'dockerode';
import type { KObject } from '../core/api/object.ts';
import { BUSYBOX_IMAGE, ensureNodeImages } from '../core/nodes/docker/images.ts';
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

const requests = Number(process.env['BENCH_SVC_REQUESTS'] ?? 600);
const PODS = { group: '', version: 'v1', resource: 'pods' };
const SERVICES = { group: '', version: 'v1', resource: 'services' };

/** Runs in the client pod's netns: alternates a request to the service and to a pod; prints JSON. */
const clientScript = (serviceIP: string, podIPs: string[]): string => `
import { request } from 'node:http';
const n = ${requests}, svc = ${JSON.stringify(serviceIP)}, pods = ${JSON.stringify(podIPs)};
const get = (host) => new Promise((resolve, reject) => {
  const t = process.hrtime.bigint();
  const req = request({ host, port: 80, path: '/cgi-bin/hostname', agent: false }, (res) => {
    res.resume(); res.on('end', () => resolve(Number(process.hrtime.bigint() - t) / 1e6));
  });
  req.on('error', reject); req.end();
});
const a = [], b = [];
if (process.argv[2] === 'until') {
  // Polls the service until the pod named in argv[3] answers; prints when (epoch ms).
  const deadline = Date.now() + 60_000;
  for (;;) {
    const body = await new Promise((resolve) => {
      request({ host: svc, port: 80, path: '/cgi-bin/hostname', agent: false }, (res) => {
        let t = ''; res.on('data', (d) => (t += d)); res.on('end', () => resolve(t.trim()));
      }).on('error', () => resolve('')).end();
    });
    if (body === process.argv[3]) { console.log(JSON.stringify({ seenAt: Date.now() })); process.exit(0); }
    if (Date.now() > deadline) { console.log(JSON.stringify({ seenAt: 0 })); process.exit(0); }
    await new Promise((r) => setTimeout(r, 1));
  }
}
for (let i = 0; i < 20; i++) { await get(svc); await get(pods[i % pods.length]); } // warm-up
for (let i = 0; i < n; i++) {
  if (i % 2) { a.push(await get(svc)); b.push(await get(pods[i % pods.length])); }
  else { b.push(await get(pods[i % pods.length])); a.push(await get(svc)); }
}
const pct = (x, p) => { const s = [...x].sort((u, v) => u - v); return s[Math.min(s.length - 1, Math.ceil(p / 100 * s.length) - 1)]; };
console.log(JSON.stringify({ svc: { p50: pct(a, 50), p99: pct(a, 99) }, pod: { p50: pct(b, 50), p99: pct(b, 99) } }));
`;

function inNode(container: string, script: string, input?: string): string {
  const r = spawnSync('docker', ['exec', '-i', container, 'sh', '-c', script], {
    encoding: 'utf8',
    input,
    timeout: 600_000,
  });
  if (r.status !== 0) throw new Error(`${script}: ${r.stderr}`);
  return r.stdout;
}

const webPod = (i: number): KObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: `web-${i}`, namespace: 'default', labels: { app: 'web', bench: 'pod-start' } }, // timePodsRunning watches that label
  spec: {
    terminationGracePeriodSeconds: 0,
    containers: [
      {
        name: 'c',
        image: BUSYBOX_IMAGE,
        imagePullPolicy: 'Never',
        command: ['httpd', '-f', '-p', '80', '-h', '/www'],
      },
    ],
  },
});

async function main(): Promise<void> {
  await ensureNodeImages(new Docker());
  const name = benchClusterName('svc');
  const berth = await startBerth(['--driver', 'docker', '--nodes', '2', '--name', name], 300_000);
  const node = `${name}-worker-1`;
  const container = `berth-${name}.${node}`;
  try {
    loadBusybox(berth.dataDir);
    const client = kubeClient(berth.kubeconfig);
    const svc = await client.create(SERVICES, 'default', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
    });
    const serviceIP = (svc['spec'] as { clusterIP: string }).clusterIP;
    await timePodsRunning(
      client,
      'default',
      [0, 1, 2].map(webPod).concat(sleeperPod('default', 'client', node)),
    );
    const ipOf = async (pod: string): Promise<string> =>
      ((await client.get(PODS, 'default', pod))['status'] as { podIP: string }).podIP;
    const podIPs = await Promise.all(['web-0', 'web-1', 'web-2'].map(ipOf));
    const clientIP = await ipOf('client');
    const netns = inNode(
      container,
      `for n in $(ip netns list | cut -d' ' -f1); do ip netns exec $n ip -4 -o addr | grep -q " ${clientIP}/" && echo $n; done; true`,
    ).trim();
    if (!netns) throw new Error(`no netns holds ${clientIP}`);
    inNode(container, 'cat > /tmp/svc-latency.mjs', clientScript(serviceIP, podIPs));
    // The service's rules may trail the pods' readiness by a moment: wait until it answers.
    inNode(
      container,
      `for i in $(seq 50); do ip netns exec ${netns} node -e "require('http').get('http://${serviceIP}/', () => process.exit(0)).on('error', () => process.exit(1))" && exit 0; sleep 0.2; done; exit 1`,
    );
    const r = JSON.parse(inNode(container, `ip netns exec ${netns} node /tmp/svc-latency.mjs`)) as Record<
      'svc' | 'pod',
      { p50: number; p99: number }
    >;
    const ms = (x: number): string => `${x.toFixed(3)} ms`;
    console.log(
      `Service latency from a pod: ${requests} HTTP requests each, new connection per request (${new Date().toISOString()})`,
    );
    console.log(
      table([
        ['target', 'p50', 'p99'],
        [`ClusterIP ${serviceIP}`, ms(r.svc.p50), ms(r.svc.p99)],
        ['pod IPs (3 pods, 2 nodes)', ms(r.pod.p50), ms(r.pod.p99)],
      ]),
    );
    console.log(`ratio ClusterIP/pod IP (p50): ${(r.svc.p50 / r.pod.p50).toFixed(3)} (target ≤ 1.2)`);

    const watcher = spawn('docker', [
      'exec',
      container,
      'sh',
      '-c',
      `ip netns exec ${netns} node /tmp/svc-latency.mjs until web-3`,
    ]);
    let out = '';
    watcher.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const seen = new Promise<number>((resolve) =>
      watcher.on('close', () => resolve((JSON.parse(out || '{}') as { seenAt?: number }).seenAt ?? 0)),
    );
    await new Promise((r) => setTimeout(r, 1000)); // the poller is running
    const createdAt = Date.now();
    const [runningAfter = 0] = await timePodsRunning(client, 'default', [webPod(3)]);
    const runningAt = createdAt + runningAfter;
    const seenAt = await seen;
    if (!seenAt) throw new Error('the new pod never answered through the service');
    console.log(
      `rule programming: new pod Running after ${runningAfter.toFixed(0)} ms; answered through the service ${(seenAt - runningAt).toFixed(0)} ms after that (target ≤ 1000 ms)`,
    );
    client.close();
  } finally {
    await berth.stop();
    await removeCluster(name);
  }
}

await main();
