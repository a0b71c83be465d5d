/**
 * Pod priority and preemption as a kubectl user sees it (kubectl 1.27 and 1.33) on
 * `berth up --driver simulated --nodes 2`: PriorityClasses (with the system ones), pods getting their
 * priority from them, a high-priority pod that fits nowhere evicting low-priority pods (Preempted events,
 * DisruptionTarget) and being scheduled where they ran, and preemptionPolicy Never waiting instead.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startBerth, type BerthProcess } from './harness/berth.ts';
import { E2E_VERSIONS, kubectlRunner, requireKubectl, type KubectlRunner } from './harness/kubectl.ts';
import { eventually, watchLines } from './harness/wait.ts';

let berth: BerthProcess;

before(async () => {
  berth = await startBerth({ args: ['--driver', 'simulated', '--nodes', '2'] });
});
after(async () => {
  await berth?.stop();
  berth?.cleanup();
});

for (const version of E2E_VERSIONS) {
  const skip = requireKubectl(version);
  describe(`kubectl ${version}`, { skip }, () => {
    let k: KubectlRunner;
    const v = version.replace('.', '');
    const ns = `preempt-${v}`;
    const n = ['-n', ns];
    const low = `low-${v}`;
    const high = `high-${v}`;
    const polite = `polite-${v}`;
    const jp = async (args: string[], path: string): Promise<string> =>
      (await k.ok([...n, 'get', ...args, '-o', `jsonpath=${path}`])).trim();
    const apply = (yaml: string): Promise<string> => k.ok(['apply', '-f', '-'], { input: yaml });
    const pod = (name: string, pc: string, cpu: string): string => `
apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: ${ns} }
spec:
  priorityClassName: ${pc}
  containers:
  - name: app
    image: registry.berth.test/app:1
    resources: { requests: { cpu: "${cpu}" } }
`;

    before(async () => {
      k = kubectlRunner(version, berth.kubeconfig, berth.home);
      await k.ok(['create', 'ns', ns]);
    });
    after(async () => {
      // The next kubectl version fills the same two nodes: leave them empty.
      await k.run(['delete', 'ns', ns, '--wait=true', '--timeout=60s']);
      await k.run(['delete', 'priorityclass', low, high, polite, '--ignore-not-found']);
    });

    it('PriorityClasses: the system ones exist; pods get their priority from theirs', async () => {
      await k.ok(['create', 'priorityclass', low, '--value=10', '--description=batch']);
      await k.ok(['create', 'priorityclass', high, '--value=1000000', '--description=critical app']);
      await k.ok(['create', 'priorityclass', polite, '--value=2000000', '--preemption-policy=Never']);
      const pcs = await k.ok(['get', 'priorityclasses']);
      assert.match(pcs, /system-cluster-critical\s+2000000000\s+false/);
      assert.match(pcs, /system-node-critical\s+2000001000\s+false/);
      assert.match(pcs, new RegExp(`${high}\\s+1000000\\s+false`));
      const refused = await k.run([
        ...n,
        'run',
        'typo',
        '--image=registry.berth.test/app:1',
        '--overrides',
        JSON.stringify({ spec: { priorityClassName: 'no-such-class' } }),
      ]);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /no PriorityClass with name no-such-class was found/);
    });

    it('a high-priority pod preempts low-priority pods on a full node and is scheduled there', async () => {
      // Eight 1-cpu pods fill the two 4-cpu nodes.
      await apply(`
apiVersion: apps/v1
kind: Deployment
metadata: { name: filler, namespace: ${ns} }
spec:
  replicas: 8
  selector: { matchLabels: { app: filler } }
  template:
    metadata: { labels: { app: filler } }
    spec:
      priorityClassName: ${low}
      terminationGracePeriodSeconds: 1
      containers:
      - name: app
        image: registry.berth.test/app:1
        resources: { requests: { cpu: "1" } }
`);
      await k.ok([...n, 'rollout', 'status', 'deploy/filler', '--timeout=60s']);
      assert.deepEqual(
        new Set((await jp(['pods', '-l', 'app=filler'], '{.items[*].spec.priority}')).split(' ')),
        new Set(['10']),
      );

      // NOMINATED NODE shows while the victims terminate (the binding clears it again).
      const watch = watchLines(k, [...n, 'get', 'pods', '-w', '-o', 'wide']);
      let node: string;
      try {
        await eventually('watch started', () => watch.output().includes('filler-'));
        await apply(pod('vip', high, '2'));
        await eventually(
          'vip Running',
          async () => (await jp(['pod', 'vip'], '{.status.phase}')) === 'Running',
          60_000,
        );
        node = await jp(['pod', 'vip'], '{.spec.nodeName}');
        const nominated = new RegExp(
          `^vip\\s+0/1\\s+Pending\\s+0\\s+\\S+\\s+<none>\\s+<none>\\s+${node}\\s`,
          'm',
        );
        await eventually('vip nominated in the watch', () => nominated.test(watch.output()));
      } finally {
        watch.stop();
      }
      const uid = await jp(['pod', 'vip'], '{.metadata.uid}');
      assert.equal(await jp(['pod', 'vip'], '{.status.nominatedNodeName}'), '');

      // Two fillers of that node were preempted (the Deployment replaces them; they wait, Pending).
      const events = await eventually('Preempted events', async () => {
        const out = await k.ok([...n, 'get', 'events', '--field-selector', 'reason=Preempted']);
        return (out.match(/Preempted by pod/g) ?? []).length >= 2 && out;
      });
      const preempted = [
        ...events.matchAll(/Normal\s+Preempted\s+pod\/(filler-\S+)\s+Preempted by pod (\S+) on node (\S+)/g),
      ];
      assert.equal(preempted.length, 2, events);
      for (const m of preempted) assert.deepEqual([m[2], m[3]], [uid, node]);
      await eventually('victims gone', async () => {
        const names = (await jp(['pods'], '{.items[*].metadata.name}')).split(' ');
        return preempted.every((m) => !names.includes(m[1]!));
      });
      const pending = await jp(
        ['pods', '-l', 'app=filler', '--field-selector', 'status.phase=Pending'],
        '{.items[*].metadata.name}',
      );
      assert.equal(pending.split(' ').filter(Boolean).length, 2, 'the replacements wait: no room left');

      const described = await k.ok([...n, 'describe', 'pod', 'vip']);
      assert.match(described, /^Priority:\s+1000000$/m);
      assert.match(described, new RegExp(`^Priority Class Name:\\s+${high}$`, 'm'));
      assert.match(described, new RegExp(`^Node:\\s+${node}/`, 'm'));
      assert.match(described, /^Status:\s+Running$/m);
      assert.match(
        described,
        new RegExp(
          `Normal\\s+Scheduled\\s+\\S+\\s+default-scheduler\\s+Successfully assigned ${ns}/vip to ${node}`,
        ),
      );
      assert.match(
        described,
        /Warning\s+FailedScheduling\s+\S+\s+default-scheduler\s+0\/2 nodes are available: 2 Insufficient cpu\./,
      );
    });

    it('preemptionPolicy Never: a higher priority pod waits instead of preempting', async () => {
      await apply(pod('polite', polite, '2'));
      await eventually(
        'polite Unschedulable',
        async () =>
          (await jp(['pod', 'polite'], '{.status.conditions[?(@.type=="PodScheduled")].message}')) ===
          '0/2 nodes are available: 2 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.',
      );
      assert.equal(await jp(['pod', 'polite'], '{.spec.preemptionPolicy}'), 'Never');
      assert.equal(
        await jp(
          ['pods', '-l', 'app=filler', '--field-selector', 'status.phase=Running'],
          '{.items[*].status.phase}',
        ),
        'Running Running Running Running Running Running',
      );
    });
  });
}
