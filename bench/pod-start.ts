/**
 * Pod start latency on a real Docker node (issue "Real worker nodes"): create → Running seen by a watch,
 * image present, for 1, 10 and 20 pods per node created at once; p50/p99.
 * Two baselines, both `ctr run --cni -d` of the same image on the same node, timed inside the node: "in
 * a row" (n runs one after another, each timed alone: the issue's original baseline, a single start's
 * cost) and "at once" (n runs started together, each timed from the common start: the runtime's own
 * curve under the same concurrency as the pods). Ratios are pods p50 / baseline p50 (and p99 / p99).
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

const ctrRun = (name: string): string =>
  `ctr -n k8s.io run -d --cni ${BUSYBOX_IMAGE} ${name} sleep 3600 >/dev/null`;

/** Kills and removes the raw containers `<prefix>1` … `<prefix>n`. */
const ctrCleanup = (prefix: string, n: number): string =>
  `for i in $(seq 1 ${n}); do ctr -n k8s.io task kill -s KILL ${prefix}$i >/dev/null 2>&1; done; sleep 0.5;
for i in $(seq 1 ${n}); do ctr -n k8s.io task rm ${prefix}$i >/dev/null 2>&1; ctr -n k8s.io c rm ${prefix}$i >/dev/null 2>&1; done`;

/** Runs a script in the node; its stdout lines are microseconds, returned as ms. */
function timedInNode(container: string, script: string, what: string): number[] {
  const r = spawnSync('docker', ['exec', container, 'sh', '-c', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${what} failed: ${r.stdout}${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((us) => Number(us) / 1000);
}

/** `ctr run --cni -d` of the image, n times in a row, each timed alone inside the node (ms each). */
function rawCtrRun(container: string, n: number): number[] {
  const p = `raw-${n}-`;
  const script = `for i in $(seq 1 ${n}); do s=$(date +%s%N); ${ctrRun(`${p}$i`)} || exit 1; e=$(date +%s%N); echo $(( (e - s) / 1000 )); done;
${ctrCleanup(p, n)}`;
  return timedInNode(container, script, 'ctr run (in a row)');
}

/**
 * The concurrency-matched baseline: n `ctr run --cni -d` started at once inside the node, each timed
 * from the common start until it returns (its task running, in its own network namespace set up by the
 * same CNI plugins), in ms. Like the pods, they share the node's CPUs and containerd.
 */
function rawCtrRunTogether(container: string, n: number): number[] {
  const p = `rawc-${n}-`;
  const script = `t0=$(date +%s%N);
for i in $(seq 1 ${n}); do ( ${ctrRun(`${p}$i`)} 2>/tmp/${p}$i.err && echo $(( ($(date +%s%N) - t0) / 1000 )) || { echo FAIL; cat /tmp/${p}$i.err >&2; } ) & done; wait;
${ctrCleanup(p, n)}; rm -f /tmp/${p}*.err`;
  const out = timedInNode(container, script, 'ctr run (at once)');
  if (out.some((x) => !Number.isFinite(x)) || out.length !== n)
    throw new Error(`ctr run (at once): ${out.length}/${n} timings, some failed`);
  return out;
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
    const rows: string[][] = [
      [
        'pods at once',
        'p50',
        'p99',
        'ctr run in a row p50',
        'p99',
        'ratio p50',
        'ctr run at once p50',
        'p99',
        'ratio p50',
        'ratio p99',
      ],
    ];
    for (const n of sizes) {
      const pods = Array.from({ length: n }, (_, i) => sleeperPod('default', `p${n}-${i}`, node));
      const lat = summary(await timePodsRunning(client, 'default', pods));
      await deleteBenchPods(client, 'default');
      const raw = summary(rawCtrRun(container, n));
      const together = summary(rawCtrRunTogether(container, n));
      rows.push([
        String(n),
        f(lat.p50),
        f(lat.p99),
        f(raw.p50),
        f(raw.p99),
        (lat.p50 / raw.p50).toFixed(2),
        f(together.p50),
        f(together.p99),
        (lat.p50 / together.p50).toFixed(2),
        (lat.p99 / together.p99).toFixed(2),
      ]);
    }
    console.log(`Pod start latency, 1 Docker node, image present (${new Date().toISOString()})`);
    console.log(table(rows));
    console.log(
      'ratios: pods / `ctr run --cni -d` of the same image on the node — "in a row": n runs one after another, ' +
        'each timed alone; "at once": n runs started together, each timed from the common start',
    );
    client.close();
  } finally {
    await berth.stop();
    await removeCluster(name);
  }
}

await main();
