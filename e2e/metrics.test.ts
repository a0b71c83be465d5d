/**
 * Resource metrics end to end on two real Docker nodes: the node agents' usage (CRI container stats,
 * the node container's cgroup) scraped by the control plane and served as metrics.k8s.io, read with
 * `kubectl top` 1.27 and 1.33. A pod burning CPU under a 200m limit shows about 200m, an idle one about
 * 0, one holding 50 MiB in a tmpfs at least that; both nodes show CPU% and MEMORY%. The GUI's
 * Overview (`berth serve` in Chromium) shows each node's usage beside its requests.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { E2E_VERSIONS, kubectlRunner, requireKubectl } from './harness/kubectl.ts';
import { eventually } from './harness/wait.ts';
import {
  dockerAvailable,
  startDockerCluster,
  uniqueClusterName,
  type DockerCluster,
} from './harness/docker-cluster.ts';
import { BUSYBOX_IMAGE } from '../core/nodes/docker/images.ts';
import { launchChromium, requireChromium, startServe } from './gui/harness.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
mkdirSync(join(root, 'test-artifacts', 'gui'), { recursive: true });
const noDocker = await dockerAvailable();
let c: DockerCluster;
const name = uniqueClusterName('t-metrics');
const ns = 'top';

const pod = (podName: string, command: string, resources: string): string => `
apiVersion: v1
kind: Pod
metadata: { name: ${podName}, namespace: ${ns}, labels: { app: ${podName} } }
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ${BUSYBOX_IMAGE}
    imagePullPolicy: Never
    command: [sh, -c, '${command}']
    resources: ${resources}
---`;

const MANIFEST = [
  pod('burn', 'while :; do :; done', '{ requests: { cpu: 100m }, limits: { cpu: 200m } }'),
  pod('idle', 'sleep 3600', '{}'),
  pod(
    'mem',
    'dd if=/dev/zero of=/dev/shm/fill bs=1048576 count=50 && sleep 3600',
    '{ limits: { memory: 200Mi } }',
  ),
].join('\n');

/** "250m" → 250, "1" → 1000 (kubectl top prints millicores). */
const milli = (v: string): number => (v.endsWith('m') ? Number(v.slice(0, -1)) : Number(v) * 1000);
/** "50Mi" → MiB. */
const mib = (v: string): number => {
  const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(v);
  if (!m) return NaN;
  const f = { Ki: 1 / 1024, Mi: 1, Gi: 1024 }[m[2] as 'Ki' | 'Mi' | 'Gi'] ?? 1 / (1024 * 1024);
  return Number(m[1]) * f;
};
const table = (out: string): string[][] =>
  out
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/));

before(async () => {
  if (noDocker) return;
  c = await startDockerCluster({ name, nodes: 2 });
  const k = kubectlRunner('1.33', c.kubeconfig, c.home);
  await k.ok(['create', 'ns', ns]);
  await k.ok(['apply', '-f', '-'], { input: MANIFEST });
  await k.ok(['-n', ns, 'wait', '--for=condition=Ready', 'pod', '--all', '--timeout=120s'], {
    timeoutMs: 130_000,
  });
});
after(async () => {
  await c?.destroy();
});

describe('resource metrics', { skip: noDocker }, () => {
  it('the API lists metrics.k8s.io; pod usage matches what the pods do (kubectl 1.33)', async () => {
    const k = kubectlRunner('1.33', c.kubeconfig, c.home);
    const res = await k.ok(['api-resources', '--api-group=metrics.k8s.io', '--no-headers']);
    assert.match(res, /^nodes\s+metrics\.k8s\.io\/v1beta1\s+false\s+NodeMetrics/m);
    assert.match(res, /^pods\s+metrics\.k8s\.io\/v1beta1\s+true\s+PodMetrics/m);
    // Usage of all three pods over a steady window: the burner at its limit, the idle pod at rest.
    const rows = await eventually(
      'kubectl top pods shows the three pods',
      async () => {
        const r = await k.run(['-n', ns, 'top', 'pods', '--no-headers']);
        if (r.code !== 0) return undefined;
        const t = table(r.stdout);
        const burn = t.find((x) => x[0] === 'burn');
        const idle = t.find((x) => x[0] === 'idle');
        // The first window of a new container starts at its start and includes starting it.
        return t.length === 3 && burn && idle && milli(burn[1]!) >= 140 && milli(idle[1]!) <= 2
          ? t
          : undefined;
      },
      90_000,
      2_000,
    );
    console.log(`kubectl top pods:\n${rows.map((r) => r.join('\t')).join('\n')}`);
    const byName = Object.fromEntries(rows.map((r) => [r[0], r]));
    const burn = milli(byName['burn']![1]!);
    assert.ok(burn >= 140 && burn <= 230, `burn uses ${burn}m (limit 200m)`);
    assert.ok(milli(byName['idle']![1]!) <= 2, `idle uses ${byName['idle']![1]}`);
    assert.ok(mib(byName['mem']![2]!) >= 50, `mem holds ${byName['mem']![2]}`);
    assert.ok(mib(byName['idle']![2]!) < 20, `idle holds ${byName['idle']![2]}`);
  });

  for (const version of E2E_VERSIONS) {
    it(
      `kubectl ${version} top nodes and pods (-A, --containers, -l, one pod)`,
      { skip: requireKubectl(version) },
      async () => {
        const k = kubectlRunner(version, c.kubeconfig, c.home);
        const nodes = await eventually(
          'kubectl top nodes lists both nodes',
          async () => {
            const r = await k.run(['top', 'nodes']);
            const t = r.code === 0 ? table(r.stdout) : [];
            return t.length === 3 ? t : undefined;
          },
          60_000,
          2_000,
        );
        // kubectl 1.27 prints CPU% / MEMORY%, 1.33 CPU(%) / MEMORY(%).
        assert.match(nodes[0]!.join(' '), /^NAME CPU\(cores\) CPU\(?%\)? MEMORY\(bytes\) MEMORY\(?%\)?$/);
        console.log(`kubectl ${version} top nodes:\n${nodes.map((r) => r.join('\t')).join('\n')}`);
        assert.deepEqual(
          nodes.slice(1).map((r) => r[0]),
          c.nodes,
        );
        for (const r of nodes.slice(1)) {
          assert.match(r[1]!, /^\d+m?$/);
          assert.match(r[2]!, /^\d+%$/);
          assert.ok(mib(r[3]!) > 1, `node memory ${r[3]}`);
          assert.match(r[4]!, /^\d+%$/);
        }
        const cpuSum = nodes.slice(1).reduce((s, r) => s + milli(r[1]!), 0);
        assert.ok(cpuSum >= 140, `the nodes' cpu (${cpuSum}m) includes the burning pod`);

        const all = table(await k.ok(['top', 'pods', '-A']));
        assert.deepEqual(all[0], ['NAMESPACE', 'NAME', 'CPU(cores)', 'MEMORY(bytes)']);
        assert.deepEqual(
          all.filter((r) => r[0] === ns).map((r) => r[1]),
          ['burn', 'idle', 'mem'],
        );
        const containers = table(await k.ok(['-n', ns, 'top', 'pods', '--containers', '-l', 'app=burn']));
        assert.deepEqual(containers[0], ['POD', 'NAME', 'CPU(cores)', 'MEMORY(bytes)']);
        assert.deepEqual(
          containers.slice(1).map((r) => [r[0], r[1]]),
          [['burn', 'main']],
        );
        const one = table(await k.ok(['-n', ns, 'top', 'pod', 'mem', '--no-headers']));
        assert.equal(one.length, 1);
        assert.ok(mib(one[0]![2]!) >= 50, `mem holds ${one[0]![2]}`);
        const missing = await k.run(['-n', ns, 'top', 'pod', 'nope']);
        assert.notEqual(missing.code, 0);
        assert.match(missing.stderr, /not found/);
      },
    );
  }

  it(
    "the GUI Overview shows each node's usage from the metrics API",
    { skip: requireChromium() },
    async () => {
      const serve = await startServe(c.dataDir, c.home, 300_000);
      const browser = await launchChromium();
      try {
        const page = await browser.context.newPage();
        await page.goto(serve.url);
        await page.getByTestId('nav-overview').click();
        const cells = page.locator('[data-testid=overview-node-usage]');
        await eventually(
          'usage of both nodes',
          async () => {
            const t = await cells.allTextContents();
            return t.length === 2 && t.every((x) => /\d+m \(\d+%\),\s*\d+Mi \(\d+%\)/.test(x))
              ? t
              : undefined;
          },
          60_000,
          1_000,
        );
        console.log(`GUI usage cells: ${JSON.stringify(await cells.allTextContents())}`);
        await page.screenshot({ path: join(root, 'test-artifacts', 'gui', 'overview-metrics.png') });
      } finally {
        await browser.close();
        await serve.stop();
      }
    },
  );
});
