/**
 * Cluster create with the node image cached (issue "Real worker nodes"): `berth up --driver docker
 * --nodes N` → API answering (/readyz), all nodes Ready, a pod Running (after `berth image load`, whose
 * time is reported apart). Baseline, same run: N bare node containers (containerd only, no agent) to
 * "containerd ready" through the same driver. Then idle RSS of the control plane and, per node, of the
 * agent and containerd.   BENCH_NODES (default 3), BENCH_IDLE_SECONDS (default 20)
 * Anchor from the issue: k3d 12.6 s create / 19.9 s total for one node (minikube time-to-k8s).
 */
import { createServer } from 'node:net';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import Docker from 'dockerode';
import { DockerNodeDriver } from '../core/nodes/docker/driver.ts';
import { ensureNodeImages } from '../core/nodes/docker/images.ts';
import { startBerth } from './berth-process.ts';
import {
  benchClusterName,
  kubeClient,
  loadBusybox,
  nodeProcessRss,
  removeCluster,
  sleeperPod,
  timePodsRunning,
} from './docker-nodes.ts';
import { table } from './util.ts';

const nodes = Number(process.env['BENCH_NODES'] ?? 3);
const idleSeconds = Number(process.env['BENCH_IDLE_SECONDS'] ?? 20);
const s = (msv: number): string => `${(msv / 1000).toFixed(2)} s`;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function readyz(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = https.get(
      { host: '127.0.0.1', port, path: '/readyz', rejectUnauthorized: false, timeout: 500 },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
}

async function baseline(): Promise<number> {
  const name = benchClusterName('raw');
  const driver = new DockerNodeDriver({ cluster: name, docker: new Docker() });
  try {
    await driver.ensureNetwork();
    const t0 = performance.now();
    await Promise.all(Array.from({ length: nodes }, (_, i) => driver.create({ name: `raw-${i + 1}` })));
    return performance.now() - t0;
  } finally {
    await driver.destroy();
  }
}

async function main(): Promise<void> {
  const docker = new Docker();
  await ensureNodeImages(docker); // cached: the benchmark is about starting, not building
  const raw = await baseline();

  const name = benchClusterName('create');
  const port = await freePort();
  const t0 = performance.now();
  let apiAt = 0;
  const poll = (async () => {
    while (!apiAt) {
      if (await readyz(port)) apiAt = performance.now() - t0;
      else await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const berth = await startBerth(
    ['--driver', 'docker', '--nodes', String(nodes), '--name', name, '--api-port', String(port)],
    300_000,
  );
  const nodesAt = performance.now() - t0;
  await poll;
  try {
    const l0 = performance.now();
    loadBusybox(berth.dataDir);
    const loadMs = performance.now() - l0;
    const client = kubeClient(berth.kubeconfig);
    const [podMs = NaN] = await timePodsRunning(client, 'default', [sleeperPod('default', 'first')]);
    console.log(`Cluster create, ${nodes} nodes, node image cached (${new Date().toISOString()})`);
    console.log(
      table([
        ['step', 'time'],
        ['API answering (/readyz 200)', s(apiAt)],
        [`all ${nodes} nodes Ready`, s(nodesAt)],
        ['a pod Running (create → Running, after image load)', `${s(nodesAt + podMs)} (pod ${s(podMs)})`],
        ['berth image load busybox (apart)', s(loadMs)],
        [`baseline: ${nodes} bare node containers to containerd ready`, s(raw)],
        ['ratio nodes Ready / baseline', (nodesAt / raw).toFixed(2)],
        ['anchor (issue): k3d create 12.6 s, total 19.9 s; target ≤ 6 s', ''],
      ]),
    );
    await new Promise((r) => setTimeout(r, idleSeconds * 1000));
    const rows: string[][] = [['process', 'RSS']];
    rows.push([`control plane (berth up, ${nodes} nodes)`, `${rssMiB(berth.child.pid!).toFixed(1)} MiB`]);
    for (let i = 1; i <= nodes; i++) {
      const c = `berth-${name}.${name}-worker-${i}`;
      rows.push([`${name}-worker-${i} agent`, `${nodeProcessRss(c, 'node ').toFixed(1)} MiB`]);
      rows.push([`${name}-worker-${i} containerd`, `${nodeProcessRss(c, 'containerd ').toFixed(1)} MiB`]);
    }
    console.log(`Idle RSS after ${idleSeconds} s (targets: agent ≤ 40 MB, control plane ≤ 150 MB)`);
    console.log(table(rows));
    client.close();
  } finally {
    await berth.stop();
    await removeCluster(name);
  }
}

await main();
