/**
 * Scheduler + simulated nodes against an in-process cluster: spreading, Running with IPs from the node's
 * pod CIDR, FailedScheduling messages and conditions, taints/tolerations, cordon, graceful deletion,
 * container exits; preemption on a separate full 2-node cluster.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Event, Node, Pod } from 'kubernetes-types/core/v1';
import type { KObject } from '../api/object.ts';
import { StatusError } from '../api/status.ts';
import { InProcessClient, type ResourceRef } from '../client/in-process.ts';
import { CONTROLLER_MANAGER_USER, startCluster, type RunningCluster } from '../cluster/cluster.ts';
import { SimulatedNodeDriver } from '../nodes/simulated/driver.ts';
import type { Watcher } from '../store/types.ts';
import type { Scheduler } from './scheduler.ts';

const podsRef: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
const nodesRef: ResourceRef = { group: '', version: 'v1', resource: 'nodes' };
const eventsRef: ResourceRef = { group: '', version: 'v1', resource: 'events' };
const leasesRef: ResourceRef = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases' };
const NS = 'default';

let dir: string;
let cluster: RunningCluster;
let client: InProcessClient;
let driver: SimulatedNodeDriver;
let scheduler: Scheduler;

async function until<T>(what: string, fn: () => T | undefined | false, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const getPod = (name: string): Pod => client.get(podsRef, NS, name) as unknown as Pod;
const getNode = (name: string): Node & KObject => client.get(nodesRef, '', name) as unknown as Node & KObject;

async function createPod(name: string, spec: Partial<Pod['spec']> = {}, cpu?: string): Promise<void> {
  const obj = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS },
    spec: {
      containers: [{ name: 'app', image: 'busybox', ...(cpu ? { resources: { requests: { cpu } } } : {}) }],
      ...spec,
    },
  } as unknown as KObject;
  // The default ServiceAccount appears shortly after start.
  await until(`create ${name}`, () => !!client.create(podsRef, NS, obj));
}

function unschedulableMessage(name: string): string | undefined {
  const c = getPod(name).status?.conditions?.find((x) => x.type === 'PodScheduled');
  return c?.status === 'False' && c.reason === 'Unschedulable' ? c.message : undefined;
}

function updateNode(name: string, f: (n: Node & KObject) => void): void {
  for (;;) {
    const n = getNode(name);
    f(n);
    try {
      client.update(nodesRef, '', n);
      return;
    } catch (e) {
      if (!(e instanceof StatusError && e.code === 409)) throw e;
    }
  }
}

const running = (name: string): Pod | undefined => {
  const p = getPod(name);
  return p.status?.phase === 'Running' ? p : undefined;
};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-sched-'));
  cluster = await startCluster({ dataDir: dir, apiPort: 0 });
  client = new InProcessClient(cluster.server, {
    username: CONTROLLER_MANAGER_USER,
    groups: ['system:authenticated'],
  });
  driver = new SimulatedNodeDriver(client);
  await driver.createMany(3, 'sim', { cpu: '2', memory: '4Gi' });
  // The cluster's own scheduler (startCluster runs one).
  assert.ok(cluster.scheduler);
  scheduler = cluster.scheduler;
});

after(async () => {
  await driver?.close();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('simulated nodes register Ready, labelled simulated, with leases', async () => {
  const nodes = await driver.list();
  assert.deepEqual(
    nodes.map((n) => n.name),
    ['sim-1', 'sim-2', 'sim-3'],
  );
  for (const [i, rec] of nodes.entries()) {
    const n = getNode(rec.name);
    assert.equal(n.metadata.labels?.['berth.dev/simulated'], 'true');
    assert.equal(n.metadata.labels?.['node.kubernetes.io/instance-type'], 'simulated');
    assert.equal(n.metadata.labels?.['kubernetes.io/hostname'], rec.name);
    assert.equal(n.metadata.labels?.['kubernetes.io/os'], 'linux');
    assert.equal(n.status?.nodeInfo?.containerRuntimeVersion, 'simulated://1');
    assert.equal(n.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    assert.equal(n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address, `10.255.${i + 1}.1`);
    assert.match(rec.podCIDR ?? '', /^10\.244\.\d{1,3}\.0\/24$/); // node IPAM's /24
    assert.equal(n.status?.allocatable?.['cpu'], '2');
    const lease = client.get(leasesRef, 'kube-node-lease', rec.name);
    assert.equal((lease['spec'] as { holderIdentity?: string }).holderIdentity, rec.name);
  }
});

test('pods spread over the nodes and reach Running with IPs from their node CIDR', async () => {
  const names = ['web-1', 'web-2', 'web-3'];
  for (const n of names) await createPod(n, {}, '500m');
  const pods = await Promise.all(names.map((n) => until(`${n} Running`, () => running(n))));
  const nodes = pods.map((p) => p.spec?.nodeName ?? '');
  assert.equal(new Set(nodes).size, 3, `spread over three nodes: ${nodes.join(',')}`);
  const cidrs = new Map((await driver.list()).map((r) => [r.name, r.podCIDR ?? '']));
  for (const p of pods) {
    const prefix = (cidrs.get(p.spec?.nodeName ?? '') ?? '').replace(/\.0\/24$/, '.');
    assert.ok(p.status?.podIP?.startsWith(prefix), `${p.status?.podIP} in ${prefix}0/24`);
    assert.equal(p.status?.hostIP, getNode(p.spec!.nodeName!).status?.addresses?.[0]?.address);
    assert.ok(p.status?.startTime);
    for (const t of ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'])
      assert.equal(p.status?.conditions?.find((c) => c.type === t)?.status, 'True', t);
    const cs = p.status?.containerStatuses?.[0];
    assert.equal(cs?.ready, true);
    assert.equal(cs?.restartCount, 0);
    assert.ok(cs?.state?.running);
  }
  const ev = (client.list(eventsRef, NS).items as unknown as Event[]).find(
    (e) => e.reason === 'Scheduled' && e.involvedObject.name === 'web-1',
  );
  assert.match(ev?.message ?? '', /^Successfully assigned default\/web-1 to sim-\d$/);
});

test('nodeSelector gpu=true stays Pending with FailedScheduling until a node is labelled', async () => {
  await createPod('gpu', { nodeSelector: { gpu: 'true' } });
  const want =
    "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. " +
    'preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.';
  assert.equal(await until('unschedulable', () => unschedulableMessage('gpu')), want);
  const ev = await until('event', () =>
    (client.list(eventsRef, NS).items as unknown as Event[]).find(
      (e) => e.reason === 'FailedScheduling' && e.involvedObject.name === 'gpu',
    ),
  );
  assert.equal(ev.type, 'Warning');
  assert.equal(ev.message, want);
  assert.equal(ev.reportingComponent, 'default-scheduler');
  assert.equal(ev.involvedObject.kind, 'Pod');
  assert.equal(getPod('gpu').status?.phase, 'Pending');
  const why = scheduler.explain(NS, 'gpu');
  assert.equal(why?.message, want);
  assert.equal(why?.nodes.length, 3);
  assert.equal(why?.nodes[0]?.failedPlugin, 'NodeAffinity');
  updateNode('sim-2', (n) => {
    n.metadata.labels = { ...n.metadata.labels, gpu: 'true' };
  });
  const p = await until('gpu Running', () => running('gpu'));
  assert.equal(p.spec?.nodeName, 'sim-2');
  assert.equal(scheduler.explain(NS, 'gpu')?.boundTo, 'sim-2');
});

test('insufficient cpu', async () => {
  await createPod('huge', {}, '3');
  assert.equal(
    await until('unschedulable', () => unschedulableMessage('huge')),
    '0/3 nodes are available: 3 Insufficient cpu. ' +
      'preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
  );
  const fit = scheduler.explain(NS, 'huge')?.nodes[0]?.filters.find((f) => f.plugin === 'NodeResourcesFit');
  assert.deepEqual(
    fit?.resources?.find((r) => r.resource === 'cpu'),
    { resource: 'cpu', requested: 3000, used: 500, allocatable: 2000 },
  );
  client.delete(podsRef, NS, 'huge', { gracePeriodSeconds: 0 });
});

test('taints and tolerations', async () => {
  updateNode('sim-3', (n) => {
    n['spec'] = {
      ...(n['spec'] as object),
      taints: [{ key: 'dedicated', value: 'infra', effect: 'NoSchedule' }],
    };
  });
  await createPod('pinned', { nodeSelector: { 'kubernetes.io/hostname': 'sim-3' } });
  assert.equal(
    await until('unschedulable', () => unschedulableMessage('pinned')),
    "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: infra}, 2 node(s) didn't match Pod's node affinity/selector. " +
      'preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
  );
  await createPod('tolerant', {
    nodeSelector: { 'kubernetes.io/hostname': 'sim-3' },
    tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'infra', effect: 'NoSchedule' }],
  });
  assert.equal((await until('tolerant Running', () => running('tolerant'))).spec?.nodeName, 'sim-3');
  assert.equal(getPod('pinned').spec?.nodeName, undefined);
});

test('cordoned nodes are skipped; uncordon lets the pod in', async () => {
  updateNode('sim-1', (n) => {
    n['spec'] = { ...(n['spec'] as object), unschedulable: true };
  });
  await createPod('on-1', { nodeSelector: { 'kubernetes.io/hostname': 'sim-1' } });
  assert.equal(
    await until('unschedulable', () => unschedulableMessage('on-1')),
    "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, " +
      '1 node(s) had untolerated taint {dedicated: infra}, 1 node(s) were unschedulable. ' +
      'preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
  );
  for (const n of ['free-1', 'free-2']) await createPod(n);
  for (const n of ['free-1', 'free-2']) {
    const p = await until(`${n} Running`, () => running(n));
    assert.equal(p.spec?.nodeName, 'sim-2', 'sim-1 cordoned, sim-3 tainted');
  }
  updateNode('sim-1', (n) => {
    n['spec'] = { ...(n['spec'] as object), unschedulable: false };
  });
  assert.equal((await until('on-1 Running', () => running('on-1'))).spec?.nodeName, 'sim-1');
});

test('deleting a bound pod completes after its (capped) grace period', async () => {
  const started = Date.now();
  const r = client.delete(podsRef, NS, 'web-1', {});
  assert.equal(r.gone, false, 'graceful: still there with a deletionTimestamp');
  await until('web-1 gone', () => {
    try {
      getPod('web-1');
      return false;
    } catch (e) {
      return e instanceof StatusError && e.code === 404;
    }
  });
  assert.ok(Date.now() - started < 5000);
});

test('container exits: Succeeded, Failed, restarts per restartPolicy', async () => {
  await createPod('ok', { restartPolicy: 'Never' });
  await createPod('bad', { restartPolicy: 'Never' });
  await createPod('retry', { restartPolicy: 'OnFailure' });
  for (const n of ['ok', 'bad', 'retry']) await until(`${n} Running`, () => running(n));
  driver.exitContainer(NS, 'ok', 'app', 0, 0);
  driver.exitContainer(NS, 'bad', 'app', 2, 0.1);
  driver.exitContainer(NS, 'retry', 'app', 1, 0);
  const ok = await until('ok Succeeded', () => getPod('ok').status?.phase === 'Succeeded' && getPod('ok'));
  assert.equal(ok.status?.containerStatuses?.[0]?.state?.terminated?.reason, 'Completed');
  assert.equal(ok.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 0);
  const bad = await until('bad Failed', () => getPod('bad').status?.phase === 'Failed' && getPod('bad'));
  assert.equal(bad.status?.containerStatuses?.[0]?.state?.terminated?.reason, 'Error');
  assert.equal(bad.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 2);
  const retry = await until(
    'retry restarted',
    () => (getPod('retry').status?.containerStatuses?.[0]?.restartCount ?? 0) > 0 && getPod('retry'),
  );
  assert.equal(retry.status?.phase, 'Running');
  assert.equal(retry.status?.containerStatuses?.[0]?.lastState?.terminated?.exitCode, 1);
});

test('VolumeBinding: a missing claim keeps the pod Pending; its bound local volume picks the node', async () => {
  const PVS: ResourceRef = { group: '', version: 'v1', resource: 'persistentvolumes' };
  const PVCS: ResourceRef = { group: '', version: 'v1', resource: 'persistentvolumeclaims' };
  await createPod('vol', { volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }] });
  assert.equal(
    await until('unschedulable', () => unschedulableMessage('vol')),
    '0/3 nodes are available: persistentvolumeclaim "data" not found. ' +
      'preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
  );
  assert.equal(scheduler.explain(NS, 'vol')?.nodes[0]?.failedPlugin, 'VolumeBinding');
  // A static volume that lives on sim-1 only (a local volume), and a claim the controller binds to it.
  client.create(PVS, '', {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: 'local-sim-1' },
    spec: {
      storageClassName: 'manual',
      accessModes: ['ReadWriteOnce'],
      capacity: { storage: '1Gi' },
      hostPath: { path: '/var/lib/berth-test/local-sim-1' },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['sim-1'] }] },
          ],
        },
      },
    },
  } as KObject);
  client.create(PVCS, NS, {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'data', namespace: NS },
    spec: {
      storageClassName: 'manual',
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '1Gi' } },
    },
  } as KObject);
  const p = await until('vol Running', () => running('vol'), 15_000);
  assert.equal(p.spec?.nodeName, 'sim-1');
});

test('preemption on a full 2-node cluster: the victim gets DisruptionTarget and goes, the pod binds there', async () => {
  const pcRef: ResourceRef = { group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses' };
  const pdir = mkdtempSync(join(tmpdir(), 'berth-preempt-'));
  const pc = await startCluster({ dataDir: pdir, apiPort: 0 });
  const c = new InProcessClient(pc.server, {
    username: CONTROLLER_MANAGER_USER,
    groups: ['system:authenticated'],
  });
  const d = new SimulatedNodeDriver(c);
  const history = new Map<string, Pod[]>();
  let watcher: Watcher | undefined;
  const get = (name: string): Pod => c.get(podsRef, NS, name) as unknown as Pod;
  const exists = (name: string): boolean => {
    try {
      get(name);
      return true;
    } catch (e) {
      if (e instanceof StatusError && e.code === 404) return false;
      throw e;
    }
  };
  const create = (name: string, cpu: string, priorityClassName: string) =>
    until(`create ${name}`, () =>
      c.create(podsRef, NS, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: NS },
        spec: {
          priorityClassName,
          containers: [{ name: 'app', image: 'busybox', resources: { requests: { cpu } } }],
        },
      } as unknown as KObject),
    );
  const events = (name: string, reason: string): Event[] =>
    (c.list(eventsRef, NS).items as unknown as Event[]).filter(
      (e) => e.involvedObject.name === name && e.reason === reason,
    );
  try {
    await d.createMany(2, 'full', { cpu: '2', memory: '4Gi' });
    for (const [name, value, preemptionPolicy] of [
      ['low', 10, 'PreemptLowerPriority'],
      ['high', 1000, 'PreemptLowerPriority'],
      ['polite', 2000, 'Never'],
    ] as const)
      c.create(pcRef, '', {
        apiVersion: 'scheduling.k8s.io/v1',
        kind: 'PriorityClass',
        metadata: { name },
        value,
        preemptionPolicy,
      } as unknown as KObject);
    watcher = c.watch(podsRef, NS, { resourceVersion: '0' }, (_t, o) => {
      const p = o as unknown as Pod;
      const name = p.metadata?.name ?? '';
      history.set(name, [...(history.get(name) ?? []), p]);
    });
    const lows = ['low-1', 'low-2', 'low-3', 'low-4'];
    for (const n of lows) await create(n, '800m', 'low');
    const placed = await Promise.all(
      lows.map((n) => until(`${n} Running`, () => get(n).status?.phase === 'Running' && get(n))),
    );
    assert.deepEqual(
      placed.map((p) => p.spec?.priority),
      [10, 10, 10, 10],
      'priority from the PriorityClass',
    );
    const perNode = (node: string) => placed.filter((p) => p.spec?.nodeName === node).length;
    assert.deepEqual([perNode('full-1'), perNode('full-2')], [2, 2], 'both nodes full (1600m of 2)');

    await create('vip', '1', 'high');
    const vip = await until(
      'vip Running',
      () => get('vip').status?.phase === 'Running' && get('vip'),
      15_000,
    );
    const node = vip.spec?.nodeName ?? '';
    const gone = lows.filter((n) => !exists(n));
    assert.equal(gone.length, 1, `one victim: ${gone.join(',')}`);
    const victim = history.get(gone[0]!)!;
    assert.equal(victim.at(-1)?.spec?.nodeName, node, 'the victim ran where the pod now runs');
    const target = victim.at(-1)?.status?.conditions?.find((x) => x.type === 'DisruptionTarget');
    assert.deepEqual(
      [target?.status, target?.reason, target?.message],
      ['True', 'PreemptionByScheduler', 'default-scheduler: preempting to accommodate a higher priority pod'],
    );
    assert.ok(
      victim.some((p) => p.metadata?.deletionTimestamp),
      'deleted gracefully (deletionTimestamp first)',
    );
    assert.ok(
      history.get('vip')?.some((p) => p.status?.nominatedNodeName === node && !p.spec?.nodeName),
      'nominated before binding',
    );
    assert.equal(vip.status?.nominatedNodeName, undefined, 'the binding clears the nomination');
    const preempted = events(gone[0]!, 'Preempted');
    assert.equal(preempted.length, 1);
    assert.equal(preempted[0]?.message, `Preempted by pod ${vip.metadata?.uid} on node ${node}`);
    assert.equal(preempted[0]?.type, 'Normal');
    assert.equal(preempted[0]?.related?.name, 'vip');
    // The attempt that preempted says nothing about preemption (upstream: a successful PostFilter adds
    // no message); a retry while the victim terminates says it waits for it.
    const failed = events('vip', 'FailedScheduling').map((e) => e.message ?? '');
    const waiting = 'preemption: not eligible due to a terminating pod on the nominated node.';
    assert.ok(failed.includes('0/2 nodes are available: 2 Insufficient cpu.'), failed.join('\n'));
    for (const m of failed)
      assert.ok(
        [
          `0/2 nodes are available: 2 Insufficient cpu.`,
          `0/2 nodes are available: 2 Insufficient cpu. ${waiting}`,
        ].includes(m),
        m,
      );
    assert.match(events('vip', 'Scheduled')[0]?.message ?? '', new RegExp(`to ${node}$`));
    assert.equal(lows.filter(exists).length, 3, 'the other low pods stay');

    // preemptionPolicy Never: higher priority still, but it waits instead of preempting.
    await create('polite', '1', 'polite');
    const msg = await until('polite unschedulable', () => {
      const cond = get('polite').status?.conditions?.find((x) => x.type === 'PodScheduled');
      return cond?.reason === 'Unschedulable' && cond.message;
    });
    assert.equal(
      msg,
      '0/2 nodes are available: 2 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.',
    );
    assert.equal(lows.filter(exists).length, 3);
  } finally {
    watcher?.stop();
    await d.close();
    await pc.stop();
    rmSync(pdir, { recursive: true, force: true });
  }
});
