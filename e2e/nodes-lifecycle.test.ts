/**
 * Issues "Controllers and scheduler" and "Real worker nodes": `berth node stop|start|add|rm` on
 * `berth up --driver simulated --nodes 3`, as a kubectl user (1.27 and 1.33) sees it. A stopped node's
 * heartbeats stop → the node controller marks it NotReady (Ready Unknown) after the node monitor grace
 * period → unreachable taints → its pods are evicted after their tolerationSeconds (10 s) and replaced
 * on the other nodes; started again → Ready, taints gone. Added nodes become Ready and schedulable;
 * removed ones disappear.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBerth, type BerthProcess } from './harness/berth.ts';
import { E2E_VERSIONS, kubectlRunner, requireKubectl, type KubectlRunner } from './harness/kubectl.ts';
import { eventually } from './harness/wait.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
/** The bound: a stopped node is NotReady within 40 s (grace 30 s + monitor period 5 s + slack). */
const NOT_READY_BOUND_MS = 40_000;
/** Berth's node-monitor grace period: never NotReady sooner after the last heartbeat. */
const GRACE_MS = 30_000;
const UNREACHABLE = 'node.kubernetes.io/unreachable';

let berth: BerthProcess;

before(async () => {
  berth = await startBerth({ args: ['--driver', 'simulated', '--nodes', '3'] });
});
after(async () => {
  await berth?.stop();
  berth?.cleanup();
});

/** Runs `berth <args> --data-dir <dir>` as its own process, like a user would. */
function berthCli(
  args: string[],
  dataDir = berth.dataDir,
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'bin', 'berth.mjs'), ...args, '--data-dir', dataDir], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, HOME: berth.home },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

async function berthOk(args: string[]): Promise<string> {
  const r = await berthCli(args);
  assert.equal(r.code, 0, `berth ${args.join(' ')} exited ${r.code}: ${r.err}`);
  return r.out;
}

it('berth node and berth image need a running cluster, and say so', async () => {
  const dir = join(berth.home, 'no-cluster-here');
  for (const args of [
    ['node', 'ls'],
    ['node', 'stop', 'x'],
    ['image', 'load', 'busybox:1'],
  ]) {
    const r = await berthCli(args, dir);
    assert.equal(r.code, 1, r.err);
    assert.equal(
      r.err.trim(),
      `berth: no running cluster for data dir ${dir}: start it with \`berth up --data-dir ${dir}\``,
    );
  }
  const r = await berthCli(['node', 'stop', 'nope']);
  assert.equal(r.code, 1);
  assert.match(r.err, /^berth: node "nope" not found in cluster "berth" \(its nodes: berth-worker-1, /);
});

const deployment = (ns: string): string => `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: ${ns} }
spec:
  replicas: 3
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      tolerations:
      - { key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 10 }
      - { key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 10 }
      containers:
      - { name: app, image: registry.berth.test/app:1 }
`;

interface PodView {
  metadata: { name: string; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status: { phase?: string };
}
interface NodeView {
  spec: { taints?: { key: string; effect: string; timeAdded?: string }[] };
  status: { conditions: { type: string; status: string; reason?: string; message?: string }[] };
}

for (const version of E2E_VERSIONS) {
  const skip = requireKubectl(version);
  describe(`kubectl ${version}`, { skip }, () => {
    let k: KubectlRunner;
    const ns = `nodes-${version.replace('.', '')}`;
    const pods = async (): Promise<PodView[]> =>
      (
        JSON.parse(await k.ok(['-n', ns, 'get', 'pods', '-l', 'app=web', '-o', 'json'])) as {
          items: PodView[];
        }
      ).items;
    const node = async (name: string): Promise<NodeView> =>
      JSON.parse(await k.ok(['get', 'node', name, '-o', 'json'])) as NodeView;
    const ready = (n: NodeView) => n.status.conditions.find((c) => c.type === 'Ready');

    before(async () => {
      k = kubectlRunner(version, berth.kubeconfig, berth.home);
      await k.ok(['create', 'ns', ns]);
    });

    it('node stop → NotReady, unreachable taints, pods evicted after tolerationSeconds; start → Ready', async () => {
      await k.ok(['apply', '-f', '-'], { input: deployment(ns) });
      const running = await eventually('3 web pods Running', async () => {
        const ps = (await pods()).filter(
          (p) => p.status.phase === 'Running' && !p.metadata.deletionTimestamp,
        );
        return ps.length === 3 && ps;
      });
      const victim = running[0]!.spec.nodeName!;
      const victimPods = running.filter((p) => p.spec.nodeName === victim).map((p) => p.metadata.name);

      const stoppedAt = Date.now();
      assert.match(await berthOk(['node', 'stop', victim]), new RegExp(`node "${victim}" stopped`));
      const lease = JSON.parse(
        await k.ok(['-n', 'kube-node-lease', 'get', 'lease', victim, '-o', 'json']),
      ) as { spec: { renewTime: string } };
      const notReady = await eventually(
        `${victim} NotReady`,
        async () => {
          const r = ready(await node(victim));
          return r?.status === 'Unknown' && r;
        },
        60_000,
        250,
      );
      const notReadyMs = Date.now() - stoppedAt;
      const sinceHeartbeatMs = Date.now() - Date.parse(lease.spec.renewTime);
      console.log(
        `kubectl ${version}: ${victim} NotReady ${(notReadyMs / 1000).toFixed(1)} s after \`berth node stop\`, ${(sinceHeartbeatMs / 1000).toFixed(1)} s after its last Lease renewal`,
      );
      assert.deepEqual(
        [notReady.reason, notReady.message],
        ['NodeStatusUnknown', 'Kubelet stopped posting node status.'],
      );
      assert.ok(notReadyMs <= NOT_READY_BOUND_MS, `NotReady after ${notReadyMs} ms`);
      assert.ok(
        sinceHeartbeatMs >= GRACE_MS - 1_000,
        `NotReady ${sinceHeartbeatMs} ms after the last heartbeat: before the grace period`,
      );
      assert.match(await k.ok(['get', 'node', victim]), new RegExp(`${victim}\\s+NotReady`));

      const taint = await eventually('unreachable taints', async () => {
        const taints = (await node(victim)).spec.taints ?? [];
        const ne = taints.find((t) => t.key === UNREACHABLE && t.effect === 'NoExecute');
        return taints.some((t) => t.key === UNREACHABLE && t.effect === 'NoSchedule') && ne;
      });
      const taintedAt = Date.parse(taint.timeAdded ?? '');

      // Evicted once tolerationSeconds (10 s) have passed since the taint was added.
      const evictedAt = await eventually(
        'pods on the stopped node evicted',
        async () => {
          const byName = new Map((await pods()).map((p) => [p.metadata.name, p]));
          return (
            victimPods.every((n) => byName.get(n)?.metadata.deletionTimestamp ?? !byName.has(n)) && Date.now()
          );
        },
        40_000,
        250,
      );
      const afterTaint = evictedAt - taintedAt;
      console.log(
        `kubectl ${version}: pods evicted ${(afterTaint / 1000).toFixed(1)} s after the NoExecute taint`,
      );
      assert.ok(afterTaint >= 9_000 && afterTaint <= 25_000, `evicted ${afterTaint} ms after the taint`);

      await eventually('3 replacements Running on the other nodes', async () => {
        const live = (await pods()).filter((p) => !p.metadata.deletionTimestamp);
        return (
          live.length === 3 && live.every((p) => p.status.phase === 'Running' && p.spec.nodeName !== victim)
        );
      });

      const startedAt = Date.now();
      assert.match(await berthOk(['node', 'start', victim]), new RegExp(`node "${victim}" started`));
      await eventually('Ready again without taints', async () => {
        const n = await node(victim);
        return ready(n)?.status === 'True' && !(n.spec.taints ?? []).some((t) => t.key === UNREACHABLE);
      });
      console.log(
        `kubectl ${version}: ${victim} Ready, taints gone ${((Date.now() - startedAt) / 1000).toFixed(1)} s after \`berth node start\``,
      );
      // The node, back, finishes the evicted pods' deletion.
      await eventually('evicted pods gone', async () => (await pods()).length === 3);
      await k.ok(['-n', ns, 'delete', 'deployment', 'web']);
    });

    it('node add → Ready and schedulable; node rm → Node gone', async () => {
      const out = await berthOk(['node', 'add', '--label', `pool=${ns}`, '--cpu', '2']);
      const name = /node "([^"]+)" added/.exec(out)?.[1];
      assert.ok(name, out);
      await eventually(`${name} Ready`, async () => ready(await node(name))?.status === 'True');
      assert.match(
        await berthOk(['node', 'ls']),
        new RegExp(`^${name}\\s+Ready\\s+running\\s+simulated`, 'm'),
      );
      await k.ok([
        '-n',
        ns,
        'run',
        'pinned',
        '--image=registry.berth.test/app:1',
        `--overrides={"spec":{"nodeSelector":{"pool":"${ns}"}}}`,
      ]);
      await eventually(
        'pinned Running on the new node',
        async () =>
          (await k.ok([
            '-n',
            ns,
            'get',
            'pod',
            'pinned',
            '-o',
            'jsonpath={.status.phase} {.spec.nodeName}',
          ])) === `Running ${name}`,
      );
      await k.ok(['-n', ns, 'delete', 'pod', 'pinned', '--wait=false']);
      assert.match(await berthOk(['node', 'rm', name]), new RegExp(`node "${name}" removed`));
      const r = await k.run(['get', 'node', name]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, new RegExp(`nodes "${name}" not found`));
      assert.doesNotMatch(await berthOk(['node', 'ls']), new RegExp(`^${name}\\s`, 'm'));
    });
  });
}
