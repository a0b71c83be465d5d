/**
 * Issue "Controllers and scheduler": Deployments and ReplicaSets driven only by real kubectl 1.27 and 1.33
 * against `berth up --driver simulated --nodes 3` (simulated nodes: the control plane is under test).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startBerth, type BerthProcess } from './harness/berth.ts';
import { E2E_VERSIONS, kubectlRunner, requireKubectl, type KubectlRunner } from './harness/kubectl.ts';
import { eventually, watchLines } from './harness/wait.ts';

let berth: BerthProcess;

before(async () => {
  berth = await startBerth({ args: ['--driver', 'simulated', '--nodes', '3'] });
});
after(async () => {
  await berth?.stop();
  berth?.cleanup();
});

const deployment = (ns: string, strategy: string): string => `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${ns}
spec:
  replicas: 3
  selector:
    matchLabels: { app: web }
  strategy: ${strategy}
  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
      - name: app
        image: registry.berth.test/web:1
`;

for (const version of E2E_VERSIONS) {
  const skip = requireKubectl(version);
  describe(`kubectl ${version}`, { skip }, () => {
    let k: KubectlRunner;
    const ns = `wl-${version.replace('.', '')}`;
    const n = ['-n', ns];
    const jp = async (args: string[], path: string): Promise<string> =>
      (await k.ok([...n, 'get', ...args, '-o', `jsonpath=${path}`])).trim();
    const image = (): Promise<string> => jp(['deploy', 'web'], '{.spec.template.spec.containers[0].image}');
    const replicaSets = async (): Promise<string[]> =>
      (await jp(['rs', '-l', 'app=web'], '{range .items[*]}{.metadata.name}{"\\n"}{end}'))
        .split('\n')
        .filter(Boolean);

    before(async () => {
      k = kubectlRunner(version, berth.kubeconfig, berth.home);
      await k.ok(['create', 'ns', ns]);
    });

    it('applies a Deployment that becomes Available with 3 replicas; rollout status returns', async () => {
      const out = await k.ok(['apply', '-f', '-'], {
        input: deployment(ns, '{ type: RollingUpdate, rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }'),
      });
      assert.equal(out.trim(), 'deployment.apps/web created');
      const st = await k.ok([...n, 'rollout', 'status', 'deploy/web', '--timeout=30s']);
      assert.match(st, /deployment "web" successfully rolled out/);
      assert.equal(await jp(['deploy', 'web'], '{.status.availableReplicas}'), '3');
      const table = await k.ok([...n, 'get', 'deploy', 'web']);
      assert.match(table, /^web\s+3\/3\s+3\s+3\s+\d+s$/m);
      const cond = await jp(['deploy', 'web'], '{.status.conditions[?(@.type=="Available")].status}');
      assert.equal(cond, 'True');
      const pods = await k.ok([...n, 'get', 'pods', '-l', 'app=web', '--no-headers']);
      assert.equal(pods.trim().split('\n').length, 3);
      for (const line of pods.trim().split('\n'))
        assert.match(line, /^web-[a-z0-9]+-[a-z0-9]{5}\s+1\/1\s+Running\s+0\s/);
    });

    it('set image rolls with maxSurge 1 / maxUnavailable 0: never fewer than 3 available', async () => {
      const w = watchLines(k, [
        ...n,
        'get',
        'deploy',
        'web',
        '-w',
        '-o',
        'jsonpath={.status.availableReplicas} {.status.updatedReplicas} {.status.replicas}{"\\n"}',
      ]);
      try {
        await k.ok([...n, 'annotate', 'deploy', 'web', 'kubernetes.io/change-cause=first version']);
        await k.ok([...n, 'set', 'image', 'deploy/web', 'app=registry.berth.test/web:2']);
        await k.ok([...n, 'annotate', 'deploy', 'web', '--overwrite', 'kubernetes.io/change-cause=image 2']);
        await k.ok([...n, 'rollout', 'status', 'deploy/web', '--timeout=30s']);
        await eventually('watch saw the end state', () => /^3 3 3$/m.test(w.output()));
        const lines = w.output().trim().split('\n');
        assert.ok(lines.length >= 2, `watch lines: ${lines.join(' | ')}`);
        for (const l of lines) {
          const [avail, , total] = l.split(' ').map(Number);
          assert.ok((avail ?? 0) >= 3, `available dropped below 3: "${l}"`);
          assert.ok((total ?? 0) <= 4, `more than replicas+maxSurge pods: "${l}"`);
        }
      } finally {
        w.stop();
      }
      assert.equal(await image(), 'registry.berth.test/web:2');
      assert.equal((await replicaSets()).length, 2);
    });

    it('rollout history lists revisions with change-cause', async () => {
      const h = await k.ok([...n, 'rollout', 'history', 'deploy/web']);
      assert.match(h, /REVISION\s+CHANGE-CAUSE/);
      assert.match(h, /^1\s+first version$/m);
      assert.match(h, /^2\s+image 2$/m);
      const r1 = await k.ok([...n, 'rollout', 'history', 'deploy/web', '--revision=1']);
      assert.match(r1, /registry\.berth\.test\/web:1/);
    });

    it('undo and undo --to-revision=1 restore the template', async () => {
      await k.ok([...n, 'set', 'image', 'deploy/web', 'app=registry.berth.test/web:3']);
      await k.ok([...n, 'rollout', 'status', 'deploy/web', '--timeout=30s']);
      assert.match(await k.ok([...n, 'rollout', 'undo', 'deploy/web']), /deployment.apps\/web rolled back/);
      await k.ok([...n, 'rollout', 'status', 'deploy/web', '--timeout=30s']);
      assert.equal(await image(), 'registry.berth.test/web:2');
      await k.ok([...n, 'rollout', 'undo', 'deploy/web', '--to-revision=1']);
      await k.ok([...n, 'rollout', 'status', 'deploy/web', '--timeout=30s']);
      assert.equal(await image(), 'registry.berth.test/web:1');
      // The restored revision moves to the top of the history.
      const h = await k.ok([...n, 'rollout', 'history', 'deploy/web']);
      const revs = [...h.matchAll(/^(\d+)\s/gm)].map((m) => Number(m[1]));
      assert.equal(Math.max(...revs), 5);
      assert.ok(!revs.includes(1), `revision 1 should have become 5: ${h}`);
    });

    it('pause, two changes, resume → exactly one new ReplicaSet', async () => {
      const before = await replicaSets();
      await k.ok([...n, 'rollout', 'pause', 'deploy/web']);
      await k.ok([...n, 'set', 'image', 'deploy/web', 'app=registry.berth.test/web:4']);
      await k.ok([...n, 'set', 'env', 'deploy/web', 'MODE=paused-change']);
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual((await replicaSets()).sort(), [...before].sort(), 'no new ReplicaSet while paused');
      const progressing = await jp(
        ['deploy', 'web'],
        '{.status.conditions[?(@.type=="Progressing")].reason}',
      );
      assert.equal(progressing, 'DeploymentPaused');
      await k.ok([...n, 'rollout', 'resume', 'deploy/web']);
      await k.ok([...n, 'rollout', 'status', 'deploy/web', '--timeout=30s']);
      const afterRs = await replicaSets();
      assert.equal(afterRs.filter((r) => !before.includes(r)).length, 1);
      const env = await jp(['deploy', 'web'], '{.spec.template.spec.containers[0].env[0].value}');
      assert.equal(env, 'paused-change');
    });

    it('rollout restart replaces every pod', async () => {
      const old = (await jp(['pods', '-l', 'app=web'], '{.items[*].metadata.name}')).split(' ');
      assert.match(await k.ok([...n, 'rollout', 'restart', 'deploy/web']), /deployment.apps\/web restarted/);
      await k.ok([...n, 'rollout', 'status', 'deploy/web', '--timeout=30s']);
      await eventually('old pods gone', async () => {
        const now = (await jp(['pods', '-l', 'app=web'], '{.items[*].metadata.name}')).split(' ');
        return now.length === 3 && now.every((p) => !old.includes(p));
      });
      const ann = await jp(['deploy', 'web'], '{.spec.template.metadata.annotations}');
      assert.match(ann, /kubectl\.kubernetes\.io\/restartedAt/);
    });

    it('Recreate deletes every old pod before creating new ones', async () => {
      await k.ok([...n, 'delete', 'deploy', 'web', '--wait=true']);
      await eventually(
        'pods gone',
        async () => (await jp(['pods', '-l', 'app=web'], '{.items[*].metadata.name}')) === '',
      );
      await k.ok(['apply', '-f', '-'], { input: deployment(ns, '{ type: Recreate }') });
      await k.ok([...n, 'rollout', 'status', 'deploy/web', '--timeout=30s']);
      const w = watchLines(k, [
        ...n,
        'get',
        'pods',
        '-l',
        'app=web',
        '-w',
        '--output-watch-events',
        '-o',
        'jsonpath={.type} {.object.metadata.name} {.object.spec.containers[0].image} {.object.metadata.deletionTimestamp}{"\\n"}',
      ]);
      try {
        await k.ok([...n, 'set', 'image', 'deploy/web', 'app=registry.berth.test/web:9']);
        await k.ok([...n, 'rollout', 'status', 'deploy/web', '--timeout=30s']);
        await eventually(
          '3 new pods seen',
          () => (w.output().match(/^ADDED \S+ registry.berth.test\/web:9/gm) ?? []).length >= 3,
        );
        // Replay the pod events: when the first new pod was added, no old pod may still exist.
        const oldAlive = new Set<string>();
        let oldSeen = 0;
        for (const line of w.output().trim().split('\n')) {
          const [type, name, img] = line.split(' ');
          if (!type || !name) continue;
          if (type === 'DELETED') oldAlive.delete(name);
          else if (img?.endsWith(':1')) {
            if (!oldAlive.has(name)) oldSeen++;
            oldAlive.add(name);
          } else if (img?.endsWith(':9') && type === 'ADDED')
            assert.deepEqual([...oldAlive], [], `old pods still present when ${name} was created`);
        }
        assert.equal(oldSeen, 3, `the watch saw the old pods:\n${w.output()}`);
      } finally {
        w.stop();
      }
    });

    it('a ReplicaSet with matchExpressions adopts a matching bare pod and deletes the surplus', async () => {
      for (const p of ['bare-1', 'bare-2'])
        await k.ok([...n, 'run', p, '--image=registry.berth.test/x:1', '--labels=tier=cache,env=test']);
      await k.ok(['apply', '-f', '-'], {
        input: `
apiVersion: apps/v1
kind: ReplicaSet
metadata: { name: cache, namespace: ${ns} }
spec:
  replicas: 1
  selector:
    matchExpressions:
    - { key: tier, operator: In, values: [cache] }
    - { key: env, operator: Exists }
  template:
    metadata: { labels: { tier: cache, env: test } }
    spec: { containers: [ { name: c, image: registry.berth.test/x:1 } ] }
`,
      });
      await eventually('one pod owned', async () => {
        const owners = await jp(
          ['pods', '-l', 'tier=cache'],
          '{range .items[*]}{.metadata.ownerReferences[0].name}{" "}{end}',
        );
        return owners.trim() === 'cache';
      });
      assert.equal(await jp(['rs', 'cache'], '{.status.replicas}'), '1');
    });

    it('removing the label orphans a pod and a replacement appears; delete --cascade=orphan keeps pods', async () => {
      const owned = await jp(['pods', '-l', 'tier=cache'], '{.items[0].metadata.name}');
      await k.ok([...n, 'label', 'pod', owned, 'tier-']);
      await eventually(
        'orphaned',
        async () => (await jp(['pod', owned], '{.metadata.ownerReferences}')) === '',
      );
      await eventually(
        'replacement',
        async () =>
          (await jp(['pods', '-l', 'tier=cache'], '{.items[*].metadata.name}')).split(' ').filter(Boolean)
            .length === 1 && (await jp(['pods', '-l', 'tier=cache'], '{.items[0].metadata.name}')) !== owned,
      );
      const repl = await jp(['pods', '-l', 'tier=cache'], '{.items[0].metadata.name}');
      assert.match(
        await k.ok([...n, 'delete', 'rs', 'cache', '--cascade=orphan']),
        /replicaset.apps "cache" deleted/,
      );
      await eventually('rs gone', async () => (await k.run([...n, 'get', 'rs', 'cache'])).code !== 0);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await jp(['pod', repl], '{.status.phase}'), 'Running');
      assert.equal(await jp(['pod', repl], '{.metadata.ownerReferences}'), '');
    });

    it('namespace delete removes everything inside and the namespace disappears', async () => {
      await k.ok(['delete', 'ns', ns, '--timeout=60s']);
      const r = await k.run(['get', 'ns', ns]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /NotFound/);
      const left = await k.ok([
        'get',
        'pods',
        '-A',
        '--no-headers',
        '-o',
        'custom-columns=NS:.metadata.namespace',
      ]);
      assert.ok(!left.split('\n').includes(ns), 'pods left in a deleted namespace');
    });
  });
}
