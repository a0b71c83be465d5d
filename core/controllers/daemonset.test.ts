import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import type { KObject } from '../api/object.ts';
import { InProcessClient, type ResourceRef } from '../client/in-process.ts';
import { startCluster, type RunningCluster } from '../cluster/cluster.ts';
import { nodeShouldRunDaemonPod, targetNodeName } from './daemonset.ts';
import { templateOfRevision } from './history.ts';
import { waitFor } from '../testing/wait.ts';

const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
const NODES: ResourceRef = { group: '', version: 'v1', resource: 'nodes' };
const DS: ResourceRef = { group: 'apps', version: 'v1', resource: 'daemonsets' };
const CR: ResourceRef = { group: 'apps', version: 'v1', resource: 'controllerrevisions' };
const EVENTS: ResourceRef = { group: '', version: 'v1', resource: 'events' };
const NS = 'default';

let dir: string;
let cluster: RunningCluster;
let client: InProcessClient;
let nodeNames: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-ds-'));
  cluster = await startCluster({
    dataDir: dir,
    apiPort: 0,
    driver: 'simulated',
    nodes: 3,
    simulated: { maxGraceSeconds: 0 },
  });
  client = new InProcessClient(cluster.server, {
    username: 'test-admin',
    groups: ['system:masters', 'system:authenticated'],
  });
  nodeNames = client
    .list(NODES, '')
    .items.map((n) => n.metadata.name ?? '')
    .sort();
  assert.equal(nodeNames.length, 3);
});

after(async () => {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
});

function setNode(name: string, f: (n: Node & KObject) => void): void {
  for (let i = 0; i < 5; i++) {
    const n = client.get(NODES, '', name) as unknown as Node & KObject;
    f(n);
    try {
      client.update(NODES, '', n);
      return;
    } catch (e) {
      if (i === 4) throw e;
    }
  }
}

const label = (name: string, k: string, v: string | undefined): void =>
  setNode(name, (n) => {
    const labels = { ...(n.metadata.labels ?? {}) };
    if (v === undefined) delete labels[k];
    else labels[k] = v;
    n.metadata.labels = labels;
  });

const livePods = (app: string): KObject[] =>
  client.list(PODS, NS, { labelSelector: `app=${app}` }).items.filter((p) => !p.metadata.deletionTimestamp);

const dsStatus = (name: string): Record<string, unknown> =>
  (client.get(DS, NS, name)['status'] ?? {}) as Record<string, unknown>;

function daemonSet(name: string, podSpec: Record<string, unknown> = {}, extra: object = {}): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace: NS },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'c', image: 'registry.example/agent:1' }], ...podSpec },
      },
      ...extra,
    },
  };
}

test('nodeSelector: one pod per labelled node, following label changes', async () => {
  label(nodeNames[0]!, 'disk', 'ssd');
  label(nodeNames[1]!, 'disk', 'ssd');
  const ds = client.create(DS, NS, daemonSet('ssd', { nodeSelector: { disk: 'ssd' } }));
  const pods = await waitFor('2 running pods', () => {
    const p = livePods('ssd');
    return p.length === 2 && p.every((x) => (x['status'] as Pod['status'])?.phase === 'Running') && p;
  });
  const placed = pods.map((p) => (p['spec'] as Pod['spec'])?.nodeName).sort();
  assert.deepEqual(placed, [nodeNames[0], nodeNames[1]]);
  for (const p of pods) {
    const spec = p['spec'] as Pod['spec'];
    assert.equal(p.metadata.ownerReferences?.[0]?.kind, 'DaemonSet');
    assert.equal(p.metadata.ownerReferences?.[0]?.uid, ds.metadata.uid);
    assert.match(p.metadata.labels?.['controller-revision-hash'] ?? '', /^[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.equal(p.metadata.labels?.['pod-template-generation'], '1');
    // The controller targets the node through node affinity; the scheduler binds it there.
    const terms =
      spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
    assert.deepEqual(terms, [
      { matchFields: [{ key: 'metadata.name', operator: 'In', values: [spec?.nodeName] }] },
    ]);
    const tol = (spec?.tolerations ?? []).map((t) => `${t.key}:${t.effect}:${t.tolerationSeconds ?? '-'}`);
    for (const want of [
      'node.kubernetes.io/not-ready:NoExecute:-',
      'node.kubernetes.io/unreachable:NoExecute:-',
      'node.kubernetes.io/disk-pressure:NoSchedule:-',
      'node.kubernetes.io/memory-pressure:NoSchedule:-',
      'node.kubernetes.io/pid-pressure:NoSchedule:-',
      'node.kubernetes.io/unschedulable:NoSchedule:-',
    ])
      assert.ok(tol.includes(want), `missing toleration ${want} in ${tol.join(', ')}`);
    assert.ok(!tol.some((t) => t.startsWith('node.kubernetes.io/network-unavailable')));
  }
  await waitFor('status 2/2', () => {
    const s = dsStatus('ssd');
    return (
      s['desiredNumberScheduled'] === 2 &&
      s['currentNumberScheduled'] === 2 &&
      s['numberReady'] === 2 &&
      s['numberAvailable'] === 2 &&
      s['updatedNumberScheduled'] === 2 &&
      s['numberMisscheduled'] === 0 &&
      s['numberUnavailable'] === undefined &&
      s['observedGeneration'] === 1
    );
  });
  // Labelling the third node adds a pod there.
  label(nodeNames[2]!, 'disk', 'ssd');
  await waitFor('3 pods', () => {
    const p = livePods('ssd');
    return p.length === 3 && p.some((x) => targetNodeName(x) === nodeNames[2]);
  });
  await waitFor('desired 3', () => dsStatus('ssd')['desiredNumberScheduled'] === 3);
  // Removing the label from the first deletes its pod.
  label(nodeNames[0]!, 'disk', undefined);
  const left = await waitFor('2 pods again', () => {
    const p = livePods('ssd');
    return p.length === 2 && p;
  });
  assert.deepEqual(left.map((p) => targetNodeName(p)).sort(), [nodeNames[1], nodeNames[2]]);
  await waitFor('desired 2, none misscheduled', () => {
    const s = dsStatus('ssd');
    return s['desiredNumberScheduled'] === 2 && s['numberMisscheduled'] === 0;
  });
  const reasons = client
    .list(EVENTS, NS)
    .items.filter((e) => (e['involvedObject'] as { name?: string }).name === 'ssd')
    .map((e) => `${String(e['reason'])}: ${String(e['message'])}`);
  assert.ok(
    reasons.some((r) => /^SuccessfulCreate: Created pod: ssd-[a-z0-9]{5}$/.test(r)),
    reasons.join('\n'),
  );
  assert.ok(
    reasons.some((r) => /^SuccessfulDelete: Deleted pod: ssd-[a-z0-9]{5}$/.test(r)),
    reasons.join('\n'),
  );
  client.delete(DS, NS, 'ssd');
  for (const n of nodeNames) label(n, 'disk', undefined);
});

test('taints: an untolerated NoSchedule taint keeps the daemon off; a toleration lets it on', async () => {
  const tainted = nodeNames[2]!;
  setNode(tainted, (n) => {
    n.spec = { ...(n.spec ?? {}), taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] };
  });
  client.create(DS, NS, daemonSet('plain'));
  client.create(
    DS,
    NS,
    daemonSet('tolerant', {
      hostNetwork: true,
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }],
    }),
  );
  const plain = await waitFor('plain on 2 nodes', () => {
    const p = livePods('plain');
    return p.length === 2 && p;
  });
  assert.ok(!plain.some((p) => targetNodeName(p) === tainted));
  const tolerant = await waitFor('tolerant on 3 nodes', () => {
    const p = livePods('tolerant');
    return p.length === 3 && p;
  });
  const tol = ((tolerant[0]!['spec'] as Pod['spec'])?.tolerations ?? []).map((t) => t.key);
  assert.ok(tol.includes('dedicated'));
  assert.ok(tol.includes('node.kubernetes.io/network-unavailable'));
  await waitFor('plain desired 2', () => dsStatus('plain')['desiredNumberScheduled'] === 2);
  // A NoExecute taint the pod does not tolerate evicts the daemon from the node.
  setNode(tainted, (n) => {
    n.spec = {
      ...(n.spec ?? {}),
      taints: [
        { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
        { key: 'maintenance', effect: 'NoExecute' },
      ],
    };
  });
  await waitFor('tolerant leaves the NoExecute node', () => {
    const p = livePods('tolerant');
    return p.length === 2 && !p.some((x) => targetNodeName(x) === tainted);
  });
  setNode(tainted, (n) => {
    n.spec = { ...(n.spec ?? {}), taints: [] };
  });
  await waitFor(
    'both back on 3 nodes',
    () => livePods('plain').length === 3 && livePods('tolerant').length === 3,
  );
  client.delete(DS, NS, 'plain');
  client.delete(DS, NS, 'tolerant');
});

test('rolling update replaces pods with the new revision; history and undo use ControllerRevisions', async () => {
  client.create(
    DS,
    NS,
    daemonSet(
      'roll',
      {},
      { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } } },
    ),
  );
  const first = await waitFor('3 running', () => {
    const p = livePods('roll');
    return p.length === 3 && p.every((x) => (x['status'] as Pod['status'])?.phase === 'Running') && p;
  });
  const hash1 = first[0]!.metadata.labels?.['controller-revision-hash'] ?? '';
  const revs1 = client.list(CR, NS, { labelSelector: 'app=roll' }).items;
  assert.equal(revs1.length, 1);
  assert.equal(revs1[0]!.metadata.name, `roll-${hash1}`);
  assert.equal(revs1[0]!['revision'], 1);
  const data = revs1[0]!['data'] as { spec: { template: Record<string, unknown> } };
  assert.equal(data.spec.template['$patch'], 'replace');

  // New image (with a change-cause, as `kubectl annotate` would record it).
  const live = client.get(DS, NS, 'roll');
  const spec = live['spec'] as { template: { spec: { containers: { image: string }[] } } };
  spec.template.spec.containers[0]!.image = 'registry.example/agent:2';
  live.metadata.annotations = { 'kubernetes.io/change-cause': 'image 2' };
  client.update(DS, NS, live);
  const second = await waitFor('3 updated pods', () => {
    const p = livePods('roll');
    return (
      p.length === 3 &&
      p.every((x) => x.metadata.labels?.['controller-revision-hash'] !== hash1) &&
      p.every((x) => (x['status'] as Pod['status'])?.phase === 'Running') &&
      p
    );
  });
  const hash2 = second[0]!.metadata.labels?.['controller-revision-hash'] ?? '';
  assert.notEqual(hash2, hash1);
  assert.equal(second[0]!.metadata.labels?.['pod-template-generation'], '2');
  await waitFor('rollout complete', () => {
    const s = dsStatus('roll');
    return s['observedGeneration'] === 2 && s['updatedNumberScheduled'] === 3 && s['numberAvailable'] === 3;
  });
  const revs2 = client.list(CR, NS, { labelSelector: 'app=roll' }).items;
  const byRev = new Map(revs2.map((r) => [r['revision'], r]));
  assert.equal(byRev.get(2)?.metadata.name, `roll-${hash2}`);
  assert.equal(byRev.get(2)?.metadata.annotations?.['kubernetes.io/change-cause'], 'image 2');
  assert.equal(byRev.get(2)?.metadata.ownerReferences?.[0]?.controller, true);

  // kubectl rollout undo: the old revision's data as a strategic merge patch.
  client.patch(DS, NS, 'roll', 'application/strategic-merge-patch+json', byRev.get(1)!['data']);
  await waitFor('back on the first revision', () => {
    const p = livePods('roll');
    return p.length === 3 && p.every((x) => x.metadata.labels?.['controller-revision-hash'] === hash1);
  });
  const revs3 = client.list(CR, NS, { labelSelector: 'app=roll' }).items;
  assert.equal(revs3.length, 2);
  const r1 = revs3.find((r) => r.metadata.name === `roll-${hash1}`)!;
  assert.equal(r1['revision'], 3);
  assert.equal(
    (templateOfRevision(r1).spec as { containers: { image: string }[] }).containers[0]!.image,
    'registry.example/agent:1',
  );
  client.delete(DS, NS, 'roll');
});

test('node eligibility (unit): selector, affinity, taints vs tolerations', () => {
  const node = (labels: Record<string, string>, taints: Node['spec'] = {}): Node => ({
    metadata: { name: 'n1', labels },
    spec: taints,
  });
  const tmpl = (spec: Record<string, unknown>) => ({ spec: { containers: [], ...spec } });
  assert.deepEqual(nodeShouldRunDaemonPod(node({ disk: 'ssd' }), tmpl({ nodeSelector: { disk: 'ssd' } })), [
    true,
    true,
  ]);
  assert.deepEqual(nodeShouldRunDaemonPod(node({}), tmpl({ nodeSelector: { disk: 'ssd' } })), [false, false]);
  const affinity = {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }],
      },
    },
  };
  assert.deepEqual(nodeShouldRunDaemonPod(node({ zone: 'b' }), tmpl({ affinity })), [false, false]);
  assert.deepEqual(nodeShouldRunDaemonPod(node({ zone: 'a' }), tmpl({ affinity })), [true, true]);
  // NoSchedule: not scheduled, but an existing pod may stay; NoExecute: neither.
  assert.deepEqual(
    nodeShouldRunDaemonPod(node({}, { taints: [{ key: 'k', effect: 'NoSchedule' }] }), tmpl({})),
    [false, true],
  );
  assert.deepEqual(
    nodeShouldRunDaemonPod(node({}, { taints: [{ key: 'k', effect: 'NoExecute' }] }), tmpl({})),
    [false, false],
  );
  // The standard daemon tolerations: not-ready NoExecute and unschedulable NoSchedule are tolerated.
  assert.deepEqual(
    nodeShouldRunDaemonPod(
      node(
        {},
        {
          taints: [
            { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' },
            { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' },
          ],
        },
      ),
      tmpl({}),
    ),
    [true, true],
  );
  assert.deepEqual(
    nodeShouldRunDaemonPod(
      node({}, { taints: [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }] }),
      tmpl({ hostNetwork: true }),
    ),
    [true, true],
  );
});

test('maxSurge: the new pod on a node is available before the old one goes', async () => {
  client.create(
    DS,
    NS,
    daemonSet(
      'surge',
      {},
      { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } },
    ),
  );
  const ready = (p: KObject): boolean =>
    ((p['status'] as Pod['status'])?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  const first = await waitFor('3 ready', () => {
    const p = livePods('surge');
    return p.length === 3 && p.every(ready) && p;
  });
  const hash1 = first[0]!.metadata.labels?.['controller-revision-hash'];
  const live = client.get(DS, NS, 'surge');
  const spec = live['spec'] as { template: { spec: { containers: { image: string }[] } } };
  spec.template.spec.containers[0]!.image = 'registry.example/agent:2';
  // Follow every pod change through a watch: ready (and not deleting) pods never drop below 3.
  const readyNow = new Set(first.map((p) => p.metadata.name ?? ''));
  const present = new Set(readyNow);
  let minReady = Infinity;
  let maxPods = 0;
  const w = client.watch(
    PODS,
    NS,
    { resourceVersion: client.list(PODS, NS).resourceVersion, labelSelector: 'app=surge' },
    (type, o) => {
      const n = o.metadata.name ?? '';
      if (type === 'DELETED' || o.metadata.deletionTimestamp) {
        present.delete(n);
        readyNow.delete(n);
      } else {
        present.add(n);
        if (ready(o)) readyNow.add(n);
        else readyNow.delete(n);
      }
      minReady = Math.min(minReady, readyNow.size);
      maxPods = Math.max(maxPods, present.size);
    },
  );
  client.update(DS, NS, live);
  await waitFor('all replaced', () => {
    const p = livePods('surge');
    return (
      p.length === 3 &&
      p.every(ready) &&
      p.every((x) => x.metadata.labels?.['controller-revision-hash'] !== hash1)
    );
  });
  w.stop();
  assert.ok(minReady >= 3, `availability dropped to ${minReady}`);
  assert.equal(maxPods, 4, 'one surge pod at a time');
  client.delete(DS, NS, 'surge');
});
