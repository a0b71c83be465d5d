/**
 * Issue "Controllers and scheduler": DaemonSets, Jobs, CronJobs, LimitRanges and ResourceQuotas driven
 * only by real kubectl 1.27 and 1.33 against `berth up --driver simulated --nodes 3`. Simulated pods end
 * when their template carries Berth's simulated-only annotations sim.berth.dev/exit(-after).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startBerth, type BerthProcess } from './harness/berth.ts';
import { E2E_VERSIONS, kubectlRunner, requireKubectl, type KubectlRunner } from './harness/kubectl.ts';
import { eventually, watchLines } from './harness/wait.ts';

let berth: BerthProcess;
const nsOf = (v: string): string => `batch-${v.replace('.', '')}`;

const cronJob = (ns: string): string => `
apiVersion: batch/v1
kind: CronJob
metadata: { name: tick, namespace: ${ns} }
spec:
  schedule: "* * * * *"
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      template:
        metadata:
          annotations: { sim.berth.dev/exit: "0", sim.berth.dev/exit-after: "150s" }
        spec:
          restartPolicy: Never
          containers: [ { name: c, image: registry.berth.test/app:1 } ]
`;

before(async () => {
  berth = await startBerth({ args: ['--driver', 'simulated', '--nodes', '3'] });
  // CronJobs run on wall-clock minutes: create them first so both versions' checks share the wait.
  for (const v of E2E_VERSIONS) {
    if (requireKubectl(v)) continue;
    const k = kubectlRunner(v, berth.kubeconfig, berth.home);
    await k.ok(['create', 'ns', nsOf(v)]);
    await k.ok(['apply', '-f', '-'], { input: cronJob(nsOf(v)) });
  }
});
after(async () => {
  await berth?.stop();
  berth?.cleanup();
});

for (const version of E2E_VERSIONS) {
  const skip = requireKubectl(version);
  describe(`kubectl ${version}`, { skip }, () => {
    let k: KubectlRunner;
    const ns = nsOf(version);
    const n = ['-n', ns];
    const jp = async (args: string[], path: string): Promise<string> =>
      (await k.ok([...n, 'get', ...args, '-o', `jsonpath=${path}`])).trim();
    const apply = (yaml: string): Promise<string> => k.ok(['apply', '-f', '-'], { input: yaml });

    before(() => {
      k = kubectlRunner(version, berth.kubeconfig, berth.home);
    });

    it('a DaemonSet runs one pod per node labelled disk=ssd and follows kubectl label node', async () => {
      const key = `disk-${ns}`;
      await k.ok(['label', 'node', 'berth-worker-1', 'berth-worker-2', `${key}=ssd`, '--overwrite']);
      await apply(`
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: agent, namespace: ${ns} }
spec:
  selector: { matchLabels: { app: agent } }
  template:
    metadata: { labels: { app: agent } }
    spec:
      nodeSelector: { ${key}: ssd }
      containers: [ { name: a, image: registry.berth.test/agent:1 } ]
`);
      const nodes = async (): Promise<string> =>
        (
          await jp(
            ['pods', '-l', 'app=agent'],
            '{range .items[?(@.status.phase=="Running")]}{.spec.nodeName}{"\\n"}{end}',
          )
        )
          .split('\n')
          .filter(Boolean)
          .sort()
          .join(',');
      await eventually('2 agents', async () => (await nodes()) === 'berth-worker-1,berth-worker-2');
      await k.ok(['label', 'node', 'berth-worker-3', `${key}=ssd`]);
      await eventually(
        '3 agents',
        async () => (await nodes()) === 'berth-worker-1,berth-worker-2,berth-worker-3',
      );
      await k.ok(['label', 'node', 'berth-worker-1', `${key}-`]);
      await eventually(
        'agent leaves worker-1',
        async () => (await nodes()) === 'berth-worker-2,berth-worker-3',
      );
      const table = await k.ok([...n, 'get', 'ds', 'agent']);
      assert.match(table, new RegExp(`^agent\\s+2\\s+2\\s+2\\s+2\\s+2\\s+${key}=ssd\\s+\\d+s$`, 'm'));
      await k.ok([...n, 'rollout', 'status', 'ds/agent', '--timeout=30s']);
      await k.ok(['label', 'node', 'berth-worker-2', 'berth-worker-3', `${key}-`]);
    });

    it('a Job with completions 5 and parallelism 2 completes with at most 2 pods running at once', async () => {
      await apply(`
apiVersion: batch/v1
kind: Job
metadata: { name: five, namespace: ${ns} }
spec:
  completions: 5
  parallelism: 2
  template:
    metadata:
      annotations: { sim.berth.dev/exit: "0", sim.berth.dev/exit-after: "300ms" }
    spec:
      restartPolicy: Never
      containers: [ { name: c, image: registry.berth.test/app:1 } ]
`);
      const w = watchLines(k, [
        ...n,
        'get',
        'job',
        'five',
        '-w',
        '-o',
        'jsonpath={.status.active} {.status.succeeded}{"\\n"}',
      ]);
      try {
        await k.ok([...n, 'wait', '--for=condition=complete', 'job/five', '--timeout=60s']);
        assert.equal(await jp(['job', 'five'], '{.status.succeeded}'), '5');
        await eventually('watch saw the end', () => / 5$/m.test(w.output()), 10_000).catch((e: Error) => {
          throw new Error(`${e.message}; watch output:\n${w.output()}`);
        });
        for (const line of w.output().trim().split('\n')) {
          const active = Number(line.split(' ')[0] || 0);
          assert.ok(active <= 2, `more than 2 active: "${line}"`);
        }
      } finally {
        w.stop();
      }
      const table = await k.ok([...n, 'get', 'job', 'five']);
      // Server-side printing: the STATUS column comes from the server's table for every kubectl.
      assert.match(table, /^five\s+Complete\s+5\/5\s+/m);
    });

    it('a failing Job stops at backoffLimit with the Failed condition', async () => {
      await apply(`
apiVersion: batch/v1
kind: Job
metadata: { name: broken, namespace: ${ns} }
spec:
  backoffLimit: 0
  template:
    metadata:
      annotations: { sim.berth.dev/exit: "1", sim.berth.dev/exit-after: "100ms" }
    spec:
      restartPolicy: Never
      containers: [ { name: c, image: registry.berth.test/app:1 } ]
`);
      await k.ok([...n, 'wait', '--for=condition=failed', 'job/broken', '--timeout=60s']);
      assert.equal(
        await jp(['job', 'broken'], '{.status.conditions[?(@.type=="Failed")].reason}'),
        'BackoffLimitExceeded',
      );
      assert.equal(
        await jp(['job', 'broken'], '{.status.conditions[?(@.type=="Failed")].message}'),
        'Job has reached the specified backoff limit',
      );
      assert.equal(await jp(['job', 'broken'], '{.status.failed}'), '1');
    });

    it('LimitRange defaults appear on new pods; a pod over ResourceQuota is refused with Kubernetes message', async () => {
      await apply(`
apiVersion: v1
kind: LimitRange
metadata: { name: defaults, namespace: ${ns} }
spec:
  limits:
  - type: Container
    default: { cpu: 500m, memory: 256Mi }
    defaultRequest: { cpu: 250m, memory: 128Mi }
---
apiVersion: v1
kind: ResourceQuota
metadata: { name: q, namespace: ${ns} }
spec:
  hard: { requests.cpu: "1", pods: "10" }
`);
      await eventually(
        'quota status',
        async () => (await jp(['quota', 'q'], '{.status.hard.pods}')) === '10',
      );
      await k.ok([
        ...n,
        'run',
        'small',
        '--image=registry.berth.test/app:1',
        '--annotations=sim.berth.dev/none=1',
      ]);
      assert.equal(await jp(['pod', 'small'], '{.spec.containers[0].resources.requests.cpu}'), '250m');
      assert.equal(await jp(['pod', 'small'], '{.spec.containers[0].resources.limits.memory}'), '256Mi');
      assert.match(
        await jp(['pod', 'small'], '{.metadata.annotations.kubernetes\\.io/limit-ranger}'),
        /^LimitRanger plugin set: cpu, memory request for container small; cpu, memory limit for container small$/,
      );
      const r = await k.run(['apply', '-f', '-'], {
        input: `
apiVersion: v1
kind: Pod
metadata: { name: big, namespace: ${ns} }
spec:
  containers:
  - name: c
    image: registry.berth.test/app:1
    resources: { requests: { cpu: "1" }, limits: { cpu: "1" } }
`,
      });
      assert.notEqual(r.code, 0);
      assert.match(
        r.stderr,
        /Error from server \(Forbidden\).*pods "big" is forbidden: exceeded quota: q, requested: requests.cpu=1, used: requests.cpu=250m, limited: requests.cpu=1/,
      );
      await eventually(
        'quota used',
        async () => (await jp(['quota', 'q'], '{.status.used.requests\\.cpu}')) === '250m',
      );
    });

    it('a CronJob creates a Job on schedule and Forbid skips runs while one is active', async () => {
      const jobs = async (): Promise<string[]> =>
        (await jp(['jobs'], '{.items[*].metadata.name}')).split(' ').filter((j) => j.startsWith('tick-'));
      await eventually('a scheduled job', async () => (await jobs()).length >= 1, 75_000, 1000);
      const first = (await jobs())[0] ?? '';
      assert.match(first, /^tick-\d{8,}$/);
      assert.ok(await jp(['cronjob', 'tick'], '{.status.lastScheduleTime}'));
      assert.match(await jp(['cronjob', 'tick'], '{.status.active[0].name}'), /^tick-\d+$/);
      // The first job runs for 150 s: the next minute's run is forbidden.
      const created = await jp(['job', first], '{.metadata.creationTimestamp}');
      const waitMs = 62_000 - (Date.now() - Date.parse(created));
      if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
      assert.deepEqual(await jobs(), [first], 'Forbid: no second job while the first is active');
    });
  });
}
