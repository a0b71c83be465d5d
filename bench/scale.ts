/**
 * Scale (not a test): N simulated nodes Ready, then P pods of one Deployment scheduled and Running, on the
 * in-process control plane (store + API + every controller + scheduler + simulated nodes). Prints the time
 * for each phase, the scheduler's throughput (pods/s), and the control plane's RSS; the baseline measured
 * in the same run is the floor of the store alone: P pod-sized objects created and updated twice (bound,
 * Running) directly in a fresh store — the ratio says what the whole control plane costs over storage.
 *   BENCH_NODES (default 5000), BENCH_PODS (default 10000), BENCH_LIMIT_S (default 240, per phase).
 * Anchor: KWOK's CI does each phase in 60 s on kube-apiserver + etcd; target ≤ 30 s each here.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClusterConfig, startCluster } from '../core/cluster/cluster.ts';
import { clusterFiles } from '../core/cluster/paths.ts';
import { openStore } from '../core/store/sqlite-store.ts';
import type { KObject } from '../core/api/object.ts';
import type { ResourceRef } from '../core/client/in-process.ts';
import { SimulatedNodeDriver } from '../core/nodes/simulated/driver.ts';
import { table } from './util.ts';

const NODES = Number(process.env['BENCH_NODES'] ?? 5000);
const PODS = Number(process.env['BENCH_PODS'] ?? 10000);
const LIMIT_MS = Number(process.env['BENCH_LIMIT_S'] ?? 240) * 1000;
const podsRef: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
const nodesRef: ResourceRef = { group: '', version: 'v1', resource: 'nodes' };
const deployRef: ResourceRef = { group: 'apps', version: 'v1', resource: 'deployments' };
const mib = (b: number): string => `${(b / 1024 / 1024).toFixed(0)} MiB`;
const sec = (msv: number): string => `${(msv / 1000).toFixed(1)} s`;

async function waitFor(what: string, f: () => boolean, started: number): Promise<number> {
  for (;;) {
    if (f()) return Date.now() - started;
    if (Date.now() - started > LIMIT_MS) throw new Error(`${what}: not done within ${LIMIT_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// ---- baseline: the store alone -------------------------------------------------------------
function storeFloor(): number {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-floor-'));
  const st = openStore({ path: join(dir, 'db') });
  const t0 = Date.now();
  for (let i = 0; i < PODS; i++) {
    const key = `/pods/bench/p-${i}`;
    const pod: KObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `p-${i}`, namespace: 'bench', labels: { app: 'scale' } },
      spec: { containers: [{ name: 'app', image: 'registry.berth.test/app:1' }] },
    };
    const c = st.create(key, pod);
    (pod['spec'] as Record<string, unknown>)['nodeName'] = `n-${i % NODES}`;
    const u = st.update(key, pod, Number(c.metadata.resourceVersion));
    pod['status'] = { phase: 'Running', podIP: '10.244.0.2' };
    st.update(key, pod, Number(u.metadata.resourceVersion));
  }
  const took = Date.now() - t0;
  st.close();
  rmSync(dir, { recursive: true, force: true });
  return took;
}

const floorMs = storeFloor();
console.log(`baseline: ${PODS} pods × (create + 2 updates) straight into the store: ${sec(floorMs)}`);

const dir = mkdtempSync(join(tmpdir(), 'berth-bench-scale-'));
// A pod range with a /24 for every node (the default 10.244.0.0/16 has 256: the node IPAM controller
// would report CIDRNotAvailable for the rest and retry them), as KWOK's CI sets --cluster-cidr.
const config: ClusterConfig = {
  name: 'bench-scale',
  apiPort: 0,
  serviceCIDR: '10.96.0.0/12',
  podCIDR: NODES > 256 ? '10.128.0.0/11' : '10.244.0.0/16',
  createdAt: new Date().toISOString(),
};
writeFileSync(clusterFiles(dir).config, JSON.stringify(config));
const cluster = await startCluster({ dataDir: dir, apiPort: 0 });
const client = cluster.controllerClient;
const driver = new SimulatedNodeDriver(client, { statusIntervalMs: 300_000 });
// What the benchmark observes, through watches (as `kubectl wait` would), not by re-listing every poll.
const readyNodes = new Set<string>();
const boundPods = new Set<string>();
const runningPods = new Set<string>();
let firstBound = 0;
let boundMs = 0;
let podsT0 = 0;
const watches = [
  client.watch(nodesRef, '', { resourceVersion: '0' }, (type, n) => {
    const name = n.metadata.name ?? '';
    const conds =
      (n['status'] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
    if (type !== 'DELETED' && conds.some((c) => c.type === 'Ready' && c.status === 'True'))
      readyNodes.add(name);
    else readyNodes.delete(name);
  }),
  client.watch(podsRef, 'default', { labelSelector: 'app=scale', resourceVersion: '0' }, (type, p) => {
    const name = p.metadata.name ?? '';
    const gone = type === 'DELETED';
    if (!gone && (p['spec'] as { nodeName?: string }).nodeName) {
      boundPods.add(name);
      if (!firstBound) firstBound = Date.now() - podsT0;
      if (boundPods.size >= PODS && !boundMs) boundMs = Date.now() - podsT0;
    } else boundPods.delete(name);
    if (!gone && (p['status'] as { phase?: string } | undefined)?.phase === 'Running') runningPods.add(name);
    else runningPods.delete(name);
  }),
];
try {
  // Phase 1: nodes
  let t0 = Date.now();
  await driver.createMany(NODES, 'scale', { cpu: '32', memory: '128Gi', pods: 110 });
  const nodesMs = await waitFor('nodes Ready', () => readyNodes.size >= NODES, t0);
  const rssNodes = process.memoryUsage().rss;

  // Phase 2: pods
  t0 = podsT0 = Date.now();
  client.create(deployRef, 'default', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'scale', namespace: 'default' },
    spec: {
      replicas: PODS,
      selector: { matchLabels: { app: 'scale' } },
      template: {
        metadata: { labels: { app: 'scale' } },
        spec: { containers: [{ name: 'app', image: 'registry.berth.test/app:1' }] },
      },
    },
  } as KObject);
  const runningMs = await waitFor(
    'pods Running',
    () => {
      if (process.env['BENCH_VERBOSE'])
        console.log(`${Date.now() - t0} ms: ${boundPods.size} bound, ${runningPods.size} Running`);
      return runningPods.size >= PODS;
    },
    t0,
  );
  const rssPods = process.memoryUsage().rss;
  const schedSpan = Math.max(1, boundMs - firstBound);
  console.log(
    table([
      ['phase', 'count', 'time', 'target', 'rate'],
      ['nodes Ready', NODES, sec(nodesMs), '≤ 30 s', `${((NODES / nodesMs) * 1000).toFixed(0)} nodes/s`],
      ['pods Running', PODS, sec(runningMs), '≤ 30 s', `${((PODS / runningMs) * 1000).toFixed(0)} pods/s`],
      [
        'scheduled (first→last bind)',
        boundPods.size,
        sec(schedSpan),
        '',
        `${((PODS / schedSpan) * 1000).toFixed(0)} pods/s`,
      ],
    ]),
  );
  console.log(`control plane RSS: after nodes ${mib(rssNodes)}, after pods ${mib(rssPods)}`);
  console.log(`ratio pods Running / store floor: ${(runningMs / floorMs).toFixed(2)}×`);
} finally {
  for (const w of watches) w.stop();
  await driver.close();
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
}
