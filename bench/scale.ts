/**
 * Scale (not a test): N simulated nodes Ready, then P pods of one Deployment scheduled and Running, on the
 * in-process control plane (store + API + every controller + scheduler + simulated nodes). Prints the time
 * for each phase, the scheduler's throughput (pods/s), and the control plane's RSS; the baseline measured
 * in the same run is the floor of the store alone: P pod-sized objects created and updated twice (bound,
 * Running) directly in a fresh store — the ratio says what the whole control plane costs over storage.
 *   BENCH_NODES (default 5000), BENCH_PODS (default 10000), BENCH_LIMIT_S (default 240, per phase).
 * Anchor: KWOK's CI does each phase in 60 s on kube-apiserver + etcd; target ≤ 30 s each here.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster } from '../core/cluster/cluster.ts';
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
const cluster = await startCluster({ dataDir: dir, apiPort: 0 });
const client = cluster.controllerClient;
const driver = new SimulatedNodeDriver(client, { statusIntervalMs: 300_000 });
try {
  // Phase 1: nodes
  let t0 = Date.now();
  const perBatch = 250;
  for (let i = 0; i < NODES; i += perBatch) {
    await Promise.all(
      Array.from({ length: Math.min(perBatch, NODES - i) }, (_, j) =>
        driver.create({ name: `scale-${i + j + 1}`, cpu: '32', memory: '128Gi', pods: 110 }),
      ),
    );
  }
  const ready = (): number =>
    client
      .list(nodesRef, '')
      .items.filter((n) =>
        (
          (n['status'] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []
        ).some((c) => c.type === 'Ready' && c.status === 'True'),
      ).length;
  const nodesMs = await waitFor('nodes Ready', () => ready() >= NODES, t0);
  const rssNodes = process.memoryUsage().rss;

  // Phase 2: pods
  t0 = Date.now();
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
  let firstBound = 0;
  let lastBoundCount = 0;
  let boundMs = 0;
  const runningMs = await waitFor(
    'pods Running',
    () => {
      const items = client.list(podsRef, 'default', { labelSelector: 'app=scale' }).items;
      const bound = items.filter((p) => (p['spec'] as { nodeName?: string }).nodeName).length;
      if (bound && !firstBound) firstBound = Date.now() - t0;
      if (bound >= PODS && !boundMs) boundMs = Date.now() - t0;
      lastBoundCount = bound;
      if (process.env['BENCH_VERBOSE'])
        console.log(`${Date.now() - t0} ms: ${items.length} pods, ${bound} bound`);
      return (
        items.length >= PODS &&
        items.every((p) => (p['status'] as { phase?: string } | undefined)?.phase === 'Running')
      );
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
        lastBoundCount,
        sec(schedSpan),
        '',
        `${((PODS / schedSpan) * 1000).toFixed(0)} pods/s`,
      ],
    ]),
  );
  console.log(`control plane RSS: after nodes ${mib(rssNodes)}, after pods ${mib(rssPods)}`);
  console.log(`ratio pods Running / store floor: ${(runningMs / floorMs).toFixed(2)}×`);
} finally {
  await driver.close();
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
}
