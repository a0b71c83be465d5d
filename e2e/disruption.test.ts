/**
 * PodDisruptionBudgets as a kubectl user sees them (kubectl 1.27 and 1.33) on
 * `berth up --driver simulated --nodes 2`: the disruption controller's status in `kubectl get pdb` and
 * `describe pdb`, `kubectl drain` evicting within the budget (kubectl retries the evictions the budget
 * refuses with 429 until replacements are Ready), and a budget at its minimum blocking a drain.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startBerth, type BerthProcess } from './harness/berth.ts';
import { E2E_VERSIONS, kubectlRunner, requireKubectl, type KubectlRunner } from './harness/kubectl.ts';
import { eventually } from './harness/wait.ts';

let berth: BerthProcess;
const NODES = ['berth-worker-1', 'berth-worker-2'] as const;
const BUDGET_REFUSED = /Cannot evict pod as it would violate the pod's disruption budget/;

before(async () => {
  berth = await startBerth({ args: ['--driver', 'simulated', '--nodes', '2'] });
});
after(async () => {
  await berth?.stop();
  berth?.cleanup();
});

const budget = (ns: string, minAvailable: number): string => `
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: web, namespace: ${ns} }
spec:
  minAvailable: ${minAvailable}
  selector: { matchLabels: { app: web } }
`;

for (const version of E2E_VERSIONS) {
  const skip = requireKubectl(version);
  describe(`kubectl ${version}`, { skip }, () => {
    let k: KubectlRunner;
    const ns = `pdb-${version.replace('.', '')}`;
    const n = ['-n', ns];
    /** Pod name → node of the Deployment's pods that are not being deleted. */
    const placement = async (): Promise<Map<string, string>> => {
      const out = await k.ok([
        ...n,
        'get',
        'pods',
        '-l',
        'app=web',
        '-o',
        'jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.metadata.deletionTimestamp}{"\\n"}{end}',
      ]);
      const m = new Map<string, string>();
      for (const line of out.split('\n')) {
        const [name, node, deleting] = line.trim().split(' ');
        if (name && node && !deleting) m.set(name, node);
      }
      return m;
    };
    /** `kubectl get pdb web` as a row: MIN AVAILABLE, MAX UNAVAILABLE, ALLOWED DISRUPTIONS. */
    const pdbRow = async (): Promise<string> =>
      (await k.ok([...n, 'get', 'pdb', 'web', '--no-headers'])).trim().split(/\s+/).slice(1, 4).join(' ');

    before(async () => {
      k = kubectlRunner(version, berth.kubeconfig, berth.home);
      await k.ok(['create', 'ns', ns]);
    });

    it('drain evicts within the budget; a budget at its minimum blocks the drain', async () => {
      await k.ok([...n, 'create', 'deployment', 'web', '--image=registry.berth.test/app:1', '--replicas=3']);
      await k.ok([...n, 'rollout', 'status', 'deploy/web', '--timeout=60s']);
      await k.ok(['apply', '-f', '-'], { input: budget(ns, 2) });
      const header = (await k.ok([...n, 'get', 'pdb', 'web'])).split('\n')[0] ?? '';
      assert.match(header, /^NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE/);
      await eventually('ALLOWED DISRUPTIONS 1', async () => (await pdbRow()) === '2 N/A 1');

      // The node holding most replicas (2 of 3 on two nodes, or all 3).
      const before = await placement();
      assert.equal(before.size, 3);
      const count = (node: string): number => [...before.values()].filter((x) => x === node).length;
      const busy = count(NODES[0]) >= count(NODES[1]) ? NODES[0] : NODES[1];
      const other = busy === NODES[0] ? NODES[1] : NODES[0];
      const victims = [...before].filter(([, node]) => node === busy).map(([name]) => name);
      assert.ok(victims.length >= 2, `2 replicas on ${busy}: ${JSON.stringify([...before])}`);

      // One disruption at a time: kubectl retries each refused eviction until a replacement is Ready.
      const drained = await k.run(
        ['drain', busy, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=90s'],
        { timeoutMs: 120_000 },
      );
      try {
        assert.equal(drained.code, 0, `${drained.stdout}\n${drained.stderr}`);
        // The second eviction arrives while the budget is spent (the first pod's replacement is not
        // Ready yet): refused with 429, which kubectl retries.
        assert.match(drained.stderr, BUDGET_REFUSED);
        assert.match(drained.stdout, new RegExp(`node/${busy} drained`));
        for (const v of victims) assert.match(drained.stdout, new RegExp(`evicting pod ${ns}/${v}`));
        const afterDrain = await placement();
        for (const v of victims) assert.ok(!afterDrain.has(v), `${v} was evicted`);
        await k.ok([...n, 'rollout', 'status', 'deploy/web', '--timeout=60s']);
        await eventually('3 replicas on the other node', async () => {
          const p = await placement();
          return p.size === 3 && [...p.values()].every((node) => node === other);
        });
        await eventually('ALLOWED DISRUPTIONS 1 again', async () => (await pdbRow()) === '2 N/A 1');
      } finally {
        await k.ok(['uncordon', busy]);
      }

      // minAvailable 3 of 3 pods: nothing may go, and a drain times out on the budget.
      await k.ok(['apply', '-f', '-'], { input: budget(ns, 3) });
      await eventually('ALLOWED DISRUPTIONS 0', async () => (await pdbRow()) === '3 N/A 0');
      const kept = await placement();
      const blocked = await k.run(
        ['drain', other, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=12s'],
        { timeoutMs: 60_000 },
      );
      try {
        assert.notEqual(blocked.code, 0, blocked.stdout);
        assert.match(blocked.stderr, BUDGET_REFUSED);
        assert.match(blocked.stderr, /global timeout reached: 12s/);
        assert.deepEqual(await placement(), kept, 'no pod was evicted');
      } finally {
        await k.ok(['uncordon', other]);
      }

      const described = await k.ok([...n, 'describe', 'pdb', 'web']);
      assert.match(described, /^Name:\s+web$/m);
      assert.match(described, new RegExp(`^Namespace:\\s+${ns}$`, 'm'));
      assert.match(described, /^Min available:\s+3$/m);
      assert.match(described, /^Selector:\s+app=web$/m);
      assert.match(described, /Allowed disruptions:\s+0$/m);
      assert.match(described, /Current:\s+3$/m);
      assert.match(described, /Desired:\s+3$/m);
      assert.match(described, /Total:\s+3$/m);

      await k.ok([...n, 'delete', 'pdb', 'web']);
      await k.ok([...n, 'delete', 'deploy', 'web']);
    });
  });
}
