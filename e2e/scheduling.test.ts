/**
 * Issue "Controllers and scheduler": scheduling as a kubectl user sees it (kubectl 1.27 and 1.33) on
 * `berth up --driver simulated --nodes 3`: nodeSelector, taints and tolerations, FailedScheduling
 * messages in Kubernetes' shape, cordon and drain (evictions).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startBerth, type BerthProcess } from './harness/berth.ts';
import { E2E_VERSIONS, kubectlRunner, requireKubectl, type KubectlRunner } from './harness/kubectl.ts';
import { eventually } from './harness/wait.ts';

let berth: BerthProcess;
const W1 = 'berth-worker-1';
const W2 = 'berth-worker-2';
const W3 = 'berth-worker-3';

before(async () => {
  berth = await startBerth({ args: ['--driver', 'simulated', '--nodes', '3'] });
});
after(async () => {
  await berth?.stop();
  berth?.cleanup();
});

const pod = (ns: string, name: string, spec: string): string => `
apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: ${ns} }
spec:
  containers:
  - name: app
    image: registry.berth.test/app:1
${spec}
`;

for (const version of E2E_VERSIONS) {
  const skip = requireKubectl(version);
  describe(`kubectl ${version}`, { skip }, () => {
    let k: KubectlRunner;
    const ns = `sched-${version.replace('.', '')}`;
    const n = ['-n', ns];
    const jp = async (args: string[], path: string): Promise<string> =>
      (await k.ok([...n, 'get', ...args, '-o', `jsonpath=${path}`])).trim();
    const apply = (yaml: string): Promise<string> => k.ok(['apply', '-f', '-'], { input: yaml });
    const pendingMessage = (name: string): Promise<string> =>
      jp(['pod', name], '{.status.conditions[?(@.type=="PodScheduled")].message}');

    before(async () => {
      k = kubectlRunner(version, berth.kubeconfig, berth.home);
      await k.ok(['create', 'ns', ns]);
    });

    it('nodeSelector gpu=true stays Pending with FailedScheduling until a node is labelled', async () => {
      await apply(pod(ns, 'gpu', '  nodeSelector: { gpu: "true" }'));
      const want =
        "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. " +
        'preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.';
      await eventually('Unschedulable', async () => (await pendingMessage('gpu')) === want);
      assert.equal(await jp(['pod', 'gpu'], '{.status.phase}'), 'Pending');
      const ev = await k.ok([
        ...n,
        'get',
        'events',
        '--field-selector',
        'involvedObject.name=gpu,reason=FailedScheduling',
      ]);
      assert.match(ev, /Warning\s+FailedScheduling\s+pod\/gpu\s+0\/3 nodes are available/);
      const described = await k.ok([...n, 'describe', 'pod', 'gpu']);
      assert.match(
        described,
        /Warning\s+FailedScheduling\s+\S+\s+default-scheduler\s+0\/3 nodes are available/,
      );
      await k.ok(['label', 'node', W2, 'gpu=true', '--overwrite']);
      await eventually(
        'gpu Running on worker-2',
        async () => (await jp(['pod', 'gpu'], '{.status.phase} {.spec.nodeName}')) === `Running ${W2}`,
      );
      await k.ok(['label', 'node', W2, 'gpu-']);
    });

    it('insufficient cpu and a selector mismatch give the combined message', async () => {
      await k.ok(['label', 'node', W1, `pool-${ns}=big`, '--overwrite']);
      await apply(
        pod(ns, 'huge', `    resources: { requests: { cpu: "64" } }\n  nodeSelector: { pool-${ns}: big }`),
      );
      await eventually('Unschedulable', async () =>
        (await pendingMessage('huge')).startsWith(
          "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector. preemption:",
        ),
      );
      // The per-node verdict with its numbers, through the API (Berth's pods/schedulingverdict).
      const verdict = JSON.parse(
        await k.ok(['get', '--raw', `/api/v1/namespaces/${ns}/pods/huge/schedulingverdict`]),
      ) as {
        kind: string;
        nodes: {
          node: string;
          failedPlugin?: string;
          filters: {
            plugin: string;
            resources?: { resource: string; requested: number; allocatable: number }[];
          }[];
        }[];
      };
      assert.equal(verdict.kind, 'PodSchedulingVerdict');
      assert.equal(verdict.nodes.length, 3);
      const big = verdict.nodes.find((v) => v.node === W1);
      assert.equal(big?.failedPlugin, 'NodeResourcesFit');
      const cpu = big?.filters
        .find((f) => f.plugin === 'NodeResourcesFit')
        ?.resources?.find((r) => r.resource === 'cpu');
      assert.deepEqual([cpu?.requested, cpu?.allocatable], [64000, 4000], JSON.stringify(big)); // millicores
      assert.deepEqual(
        verdict.nodes.filter((v) => v.node !== W1).map((v) => v.failedPlugin),
        ['NodeAffinity', 'NodeAffinity'],
      );
      await k.ok([...n, 'delete', 'pod', 'huge', '--wait=false']);
      await k.ok(['label', 'node', W1, `pool-${ns}-`]);
    });

    it('taints repel pods without a toleration; a toleration lets them in', async () => {
      await k.ok(['taint', 'node', W3, `dedicated-${ns}=db:NoSchedule`, '--overwrite']);
      try {
        await apply(pod(ns, 'plain', `  nodeSelector: { kubernetes.io/hostname: ${W3} }`));
        await eventually('taint message', async () =>
          (await pendingMessage('plain')).startsWith(
            `0/3 nodes are available: 1 node(s) had untolerated taint {dedicated-${ns}: db}, 2 node(s) didn't match Pod's node affinity/selector.`,
          ),
        );
        await apply(
          pod(
            ns,
            'tolerant',
            `  nodeSelector: { kubernetes.io/hostname: ${W3} }\n  tolerations: [ { key: dedicated-${ns}, operator: Equal, value: db, effect: NoSchedule } ]`,
          ),
        );
        await eventually(
          'tolerant Running',
          async () => (await jp(['pod', 'tolerant'], '{.status.phase}')) === 'Running',
        );
      } finally {
        await k.ok(['taint', 'node', W3, `dedicated-${ns}-`]);
      }
      await eventually(
        'plain Running once untainted',
        async () => (await jp(['pod', 'plain'], '{.status.phase}')) === 'Running',
      );
      await k.ok([...n, 'delete', 'pod', 'plain', 'tolerant', 'gpu']);
    });

    it('cordon keeps new pods off a node; drain --ignore-daemonsets evicts its pods elsewhere', async () => {
      await k.ok([
        ...n,
        'create',
        'deployment',
        'spread',
        '--image=registry.berth.test/app:1',
        '--replicas=6',
      ]);
      await k.ok([...n, 'rollout', 'status', 'deploy/spread', '--timeout=30s']);
      const onW3 = async (): Promise<string[]> =>
        (
          await jp(
            ['pods', '-l', 'app=spread', '--field-selector', `spec.nodeName=${W3}`],
            '{.items[*].metadata.name}',
          )
        )
          .split(' ')
          .filter(Boolean);
      assert.ok((await onW3()).length > 0, 'the scheduler spreads the Deployment over all nodes');

      assert.match(await k.ok(['cordon', W3]), new RegExp(`node/${W3} cordoned`));
      try {
        assert.match(await k.ok(['get', 'node', W3]), /Ready,SchedulingDisabled/);
        // A bare pod blocks drain without --force, with kubectl's own message.
        await apply(pod(ns, 'bare', `  nodeName: ${W3}`));
        await eventually(
          'bare Running',
          async () => (await jp(['pod', 'bare'], '{.status.phase}')) === 'Running',
        );
        const refused = await k.run(['drain', W3, '--ignore-daemonsets', '--timeout=20s']);
        assert.notEqual(refused.code, 0);
        assert.match(
          refused.stderr,
          /cannot delete Pods (that )?declare no controller \(use --force to override\): sched-\d+\/bare/,
        );
        await k.ok([...n, 'delete', 'pod', 'bare']);

        const out = await k.ok(['drain', W3, '--ignore-daemonsets', '--timeout=60s']);
        assert.match(out, new RegExp(`node/${W3} drained`));
        assert.match(out, /evicting pod sched-\d+\/spread-/);
        await eventually('no spread pods on worker-3', async () => (await onW3()).length === 0);
        await k.ok([...n, 'rollout', 'status', 'deploy/spread', '--timeout=30s']);
        const nodes = (await jp(['pods', '-l', 'app=spread'], '{.items[*].spec.nodeName}')).split(' ');
        assert.equal(nodes.length, 6);
        assert.ok(!nodes.includes(W3));
      } finally {
        assert.match(await k.ok(['uncordon', W3]), new RegExp(`node/${W3} uncordoned`));
      }
      await k.ok([...n, 'delete', 'deploy', 'spread']);
    });
  });
}
