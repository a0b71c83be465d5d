/**
 * Node lifecycle + taint eviction against a cluster of simulated nodes with shortened intervals: a node
 * whose heartbeats stop goes Unknown and gets the unreachable taints, its pods go not ready, pods
 * tolerating the taint for 2 s are evicted after ~2 s and their ReplicaSet recreates them elsewhere;
 * heartbeats resuming remove the taints.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KObject } from '../api/object.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';
import { startCluster, type RunningCluster } from '../cluster/cluster.ts';
import type { SimulatedNodeDriver } from '../nodes/simulated/driver.ts';
import { nodeLifecycleDefaults, zoneKey, type Taint } from './node-lifecycle.ts';
import { matchingTolerations, minTolerationMs, toleratesTaint } from './taint-eviction.ts';
import { waitFor } from '../testing/wait.ts';

const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
const RS: ResourceRef = { group: 'apps', version: 'v1', resource: 'replicasets' };
const NODES: ResourceRef = { group: '', version: 'v1', resource: 'nodes' };
const EVENTS: ResourceRef = { group: '', version: 'v1', resource: 'events' };
const SA: ResourceRef = { group: '', version: 'v1', resource: 'serviceaccounts' };
const NS = 'default';
const GRACE_MS = 1500;

let dir: string;
let cluster: RunningCluster;
let client: InProcessClient;
let driver: SimulatedNodeDriver;

before(async () => {
  Object.assign(nodeLifecycleDefaults, {
    nodeMonitorPeriodMs: 100,
    nodeMonitorGracePeriodMs: GRACE_MS,
    evictionQPS: 100,
  });
  dir = mkdtempSync(join(tmpdir(), 'berth-nlc-'));
  cluster = await startCluster({
    dataDir: dir,
    apiPort: 0,
    driver: 'simulated',
    nodes: 3,
    simulated: { leaseIntervalMs: 200, statusIntervalMs: 500, maxGraceSeconds: 1 },
  });
  client = cluster.controllerClient;
  driver = cluster.driver as SimulatedNodeDriver;
  await waitFor('default service account', () => client.get(SA, NS, 'default'));
});

after(async () => {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
});

type Cond = { type: string; status: string; reason?: string; message?: string };
const nodeConds = (n: KObject): Cond[] =>
  ((n['status'] as { conditions?: Cond[] }).conditions ?? []) as Cond[];
const taintsOf = (name: string): Taint[] =>
  ((client.get(NODES, '', name)['spec'] as { taints?: Taint[] }).taints ?? []) as Taint[];
const nodeOf = (p: KObject): string => (p['spec'] as { nodeName?: string }).nodeName ?? '';
const podConds = (p: KObject): Cond[] =>
  ((p['status'] as { conditions?: Cond[] } | undefined)?.conditions ?? []) as Cond[];
const eventsFor = (name: string, reason: string): KObject[] =>
  client
    .list(EVENTS, NS)
    .items.filter((e) => (e['involvedObject'] as { name?: string }).name === name && e['reason'] === reason);

test('unit: toleration matching and minimum toleration time', () => {
  const taint: Taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' };
  assert.ok(toleratesTaint({ operator: 'Exists' }, taint));
  assert.ok(toleratesTaint({ key: taint.key, operator: 'Exists', effect: 'NoExecute' }, taint));
  assert.ok(!toleratesTaint({ key: taint.key, operator: 'Exists', effect: 'NoSchedule' }, taint));
  assert.ok(!toleratesTaint({ key: 'k', value: 'v' }, { key: 'k', value: 'w', effect: 'NoExecute' }));
  assert.ok(toleratesTaint({ key: 'k', value: 'v' }, { key: 'k', value: 'v', effect: 'NoExecute' }));
  const m = matchingTolerations(
    [taint, { key: 'other', effect: 'NoExecute' }],
    [{ key: taint.key, operator: 'Exists', tolerationSeconds: 5 }],
  );
  assert.equal(m.all, false);
  assert.equal(minTolerationMs([{ tolerationSeconds: 5 }, { tolerationSeconds: 2 }, {}]), 2000);
  assert.equal(minTolerationMs([{}]), -1);
  assert.equal(minTolerationMs([{ tolerationSeconds: -3 }]), 0);
  assert.equal(zoneKey({ metadata: { labels: { 'topology.kubernetes.io/zone': 'z' } } }), ':\x00:z');
});

test('heartbeats stop → Unknown + unreachable taints → tolerationSeconds 2 evicted, recreated elsewhere; resume → taints removed', async () => {
  const labels = { app: 'evictme' };
  const tolerations = [
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 },
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 },
  ];
  client.create(RS, NS, {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'evictme', namespace: NS },
    spec: {
      replicas: 3,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { tolerations, containers: [{ name: 'c', image: 'nginx' }] },
      },
    },
  });
  const rsPods = await waitFor('3 running RS pods', () => {
    const ps = client
      .list(PODS, NS, { labelSelector: 'app=evictme' })
      .items.filter((p) => (p['status'] as { phase?: string } | undefined)?.phase === 'Running');
    return ps.length === 3 && ps;
  });
  const victimNode = nodeOf(rsPods[0]!);
  const victims = rsPods.filter((p) => nodeOf(p) === victimNode).map((p) => p.metadata.name ?? '');
  // A bare pod on the same node with the admission's default tolerations (300 s): not evicted.
  const bare = client.create(PODS, NS, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'bare', namespace: NS },
    spec: { nodeName: victimNode, containers: [{ name: 'c', image: 'nginx' }] },
  });
  assert.deepEqual((bare['spec'] as { tolerations?: unknown[] }).tolerations, [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    {
      key: 'node.kubernetes.io/unreachable',
      operator: 'Exists',
      effect: 'NoExecute',
      tolerationSeconds: 300,
    },
  ]);
  await waitFor('bare running', () =>
    podConds(client.get(PODS, NS, 'bare')).some((c) => c.type === 'Ready' && c.status === 'True'),
  );
  // Healthy nodes carry none of the controller's taints.
  assert.deepEqual(taintsOf(victimNode), []);

  const stoppedAt = Date.now();
  await driver.stop(victimNode);

  const ready = await waitFor(
    'Ready Unknown',
    () =>
      nodeConds(client.get(NODES, '', victimNode)).find((c) => c.type === 'Ready' && c.status === 'Unknown'),
    GRACE_MS + 3000,
  );
  const detectedAfter = Date.now() - stoppedAt;
  assert.ok(detectedAfter >= GRACE_MS - 300, `not before the grace period (${detectedAfter} ms)`);
  assert.equal(ready.reason, 'NodeStatusUnknown');
  assert.equal(ready.message, 'Kubelet stopped posting node status.');
  for (const t of ['MemoryPressure', 'DiskPressure', 'PIDPressure'])
    assert.equal(nodeConds(client.get(NODES, '', victimNode)).find((c) => c.type === t)?.status, 'Unknown');

  const taints = await waitFor('unreachable taints', () => {
    const ts = taintsOf(victimNode);
    return ts.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute') &&
      ts.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoSchedule')
      ? ts
      : undefined;
  });
  const taintSeen = Date.now();
  const ne = taints.find((t) => t.effect === 'NoExecute')!;
  assert.match(ne.timeAdded ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(taints.find((t) => t.effect === 'NoSchedule')?.timeAdded, undefined);
  // Other nodes untouched.
  for (const n of client.list(NODES, '').items)
    if (n.metadata.name !== victimNode) assert.deepEqual(taintsOf(n.metadata.name ?? ''), []);

  // Pods on the node marked not ready.
  await waitFor('pods on the node not ready', () =>
    [...victims, 'bare'].every((name) =>
      podConds(client.get(PODS, NS, name)).some((c) => c.type === 'Ready' && c.status === 'False'),
    ),
  );
  assert.ok(eventsFor('bare', 'NodeNotReady').length >= 1);

  // Evicted after ~2 s (not before).
  await new Promise((r) => setTimeout(r, 1200));
  for (const v of victims)
    assert.equal(client.get(PODS, NS, v).metadata.deletionTimestamp, undefined, 'not before 2 s');
  await waitFor(
    'victims evicted',
    () =>
      victims.every((v) => {
        try {
          return !!client.get(PODS, NS, v).metadata.deletionTimestamp;
        } catch {
          return true;
        }
      }),
    4000,
  );
  const evictedAfter = Date.now() - taintSeen;
  assert.ok(evictedAfter >= 1700 && evictedAfter < 3500, `evicted ${evictedAfter} ms after the taint`);
  const v0 = client.get(PODS, NS, victims[0]!);
  const dt = podConds(v0).find((c) => c.type === 'DisruptionTarget');
  assert.deepEqual(
    { status: dt?.status, reason: dt?.reason, message: dt?.message },
    {
      status: 'True',
      reason: 'DeletionByTaintManager',
      message: 'Taint manager: deleting due to NoExecute taint',
    },
  );
  const ev = eventsFor(victims[0]!, 'TaintManagerEviction')[0];
  assert.equal(ev?.['message'], `Marking for deletion Pod ${NS}/${victims[0]}`);
  assert.equal((ev?.['source'] as { component?: string }).component, 'taint-eviction-controller');
  // The bare pod (300 s) stays.
  assert.equal(client.get(PODS, NS, 'bare').metadata.deletionTimestamp, undefined);

  // The ReplicaSet replaces them on the other nodes.
  await waitFor('replacements running elsewhere', () => {
    const ps = client
      .list(PODS, NS, { labelSelector: 'app=evictme' })
      .items.filter((p) => !p.metadata.deletionTimestamp);
    return (
      ps.length === 3 &&
      ps.every(
        (p) =>
          nodeOf(p) && nodeOf(p) !== victimNode && (p['status'] as { phase?: string }).phase === 'Running',
      )
    );
  });

  // Heartbeats resume: Ready again, taints gone, the bare pod's scheduled eviction cancelled.
  await driver.start(victimNode);
  await waitFor('taints removed', () => taintsOf(victimNode).length === 0, 5000);
  assert.equal(nodeConds(client.get(NODES, '', victimNode)).find((c) => c.type === 'Ready')?.status, 'True');
  await waitFor('cancel event', () =>
    eventsFor('bare', 'TaintManagerEviction').some(
      (e) => e['message'] === `Cancelling deletion of Pod ${NS}/bare`,
    ),
  );
  assert.equal(client.get(PODS, NS, 'bare').metadata.deletionTimestamp, undefined);
});

test('a NoExecute taint a pod does not tolerate evicts it at once', async () => {
  const node = client.list(NODES, '').items[0]!;
  const name = node.metadata.name ?? '';
  client.create(PODS, NS, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'intolerant', namespace: NS },
    spec: { nodeName: name, containers: [{ name: 'c', image: 'nginx' }] },
  });
  client.create(PODS, NS, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'tolerant', namespace: NS },
    spec: {
      nodeName: name,
      tolerations: [{ key: 'example.test/evict', operator: 'Exists', effect: 'NoExecute' }],
      containers: [{ name: 'c', image: 'nginx' }],
    },
  });
  const live = client.get(NODES, '', name);
  client.update(NODES, '', {
    ...live,
    spec: { ...(live['spec'] as object), taints: [{ key: 'example.test/evict', effect: 'NoExecute' }] },
  });
  await waitFor(
    'intolerant evicted',
    () => {
      try {
        return !!client.get(PODS, NS, 'intolerant').metadata.deletionTimestamp;
      } catch {
        return true;
      }
    },
    2000,
  );
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(client.get(PODS, NS, 'tolerant').metadata.deletionTimestamp, undefined, 'forever toleration');
  const l2 = client.get(NODES, '', name);
  client.update(NODES, '', { ...l2, spec: { ...(l2['spec'] as object), taints: [] } });
});
