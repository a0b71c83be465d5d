/**
 * Pod start latency on a real Docker node (issue "Real worker nodes"): create → Running seen by a watch,
 * image present, for 1, 10 and 20 pods per node created at once; p50/p99. Baseline in the same run:
 * raw `ctr run --cni` of the same image on the same node (timed inside the node), and the ratio.
 * Targets: p50 ≤ 0.4 s, p99 ≤ 1 s, ratio ≤ 3.   BENCH_SIZES (default "1,10,20")
 */
import { spawnSync } from 'node:child_process';
import Docker from 'dockerode';
import { BUSYBOX_IMAGE, ensureNodeImages } from '../core/nodes/docker/images.ts';
import { startBerth } from './berth-process.ts';
import {
  benchClusterName,
  deleteBenchPods,
  kubeClient,
  loadBusybox,
  removeCluster,
  sleeperPod,
  timePodsRunning,
} from './docker-nodes.ts';
import { summary, table } from './util.ts';

const sizes = (process.env['BENCH_SIZES'] ?? '1,10,20').split(',').map(Number);
const f = (x: number): string => `${(x / 1000).toFixed(3)} s`;

/** `ctr run --cni -d` of the image, n times in a row, timed inside the node (ms each). */
function rawCtrRun(container: string, n: number): number[] {
  const script = `for i in $(seq 1 ${n}); do s=$(date +%s%N); ctr -n k8s.io run -d --cni ${BUSYBOX_IMAGE} raw-${n}-$i sleep 3600 >/dev/null || exit 1; e=$(date +%s%N); echo $(( (e - s) / 1000 )); done;
for i in $(seq 1 ${n}); do ctr -n k8s.io task kill -s KILL raw-${n}-$i >/dev/null 2>&1; done; sleep 0.5;
for i in $(seq 1 ${n}); do ctr -n k8s.io task rm raw-${n}-$i >/dev/null 2>&1; ctr -n k8s.io c rm raw-${n}-$i >/dev/null 2>&1; done`;
  const r = spawnSync('docker', ['exec', container, 'sh', '-c', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ctr run failed: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((us) => Number(us) / 1000);
}

async function main(): Promise<void> {
  await ensureNodeImages(new Docker());
  const name = benchClusterName('podstart');
  const berth = await startBerth(['--driver', 'docker', '--nodes', '1', '--name', name], 300_000);
  const node = `${name}-worker-1`;
  const container = `berth-${name}.${node}`;
  try {
    loadBusybox(berth.dataDir);
    const client = kubeClient(berth.kubeconfig);
    // Warm-up: the first pod on a node pays one-off costs (CNI bridge creation).
    await timePodsRunning(client, 'default', [sleeperPod('default', 'warm', node)]);
    await deleteBenchPods(client, 'default');
    const rows: string[][] = [['pods at once', 'p50', 'p99', 'raw ctr run p50', 'raw p99', 'ratio p50']];
    for (const n of sizes) {
      const pods = Array.from({ length: n }, (_, i) => sleeperPod('default', `p${n}-${i}`, node));
      const lat = summary(await timePodsRunning(client, 'default', pods));
      await deleteBenchPods(client, 'default');
      const raw = summary(rawCtrRun(container, n));
      rows.push([String(n), f(lat.p50), f(lat.p99), f(raw.p50), f(raw.p99), (lat.p50 / raw.p50).toFixed(2)]);
    }
    console.log(`Pod start latency, 1 Docker node, image present (${new Date().toISOString()})`);
    console.log(table(rows));
    client.close();
  } finally {
    await berth.stop();
    await removeCluster(name);
  }
}

await main();
