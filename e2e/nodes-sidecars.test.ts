/**
 * Native sidecars and ephemeral containers on a real Docker node, driven by real kubectl 1.27 and
 * 1.33: a sidecar init container (restartPolicy: Always) runs beside a later ordinary init container
 * and the main container, sharing an emptyDir; the next init container waits for a sidecar's startup
 * probe; a Job with a sidecar completes and its sidecar is stopped; `kubectl debug
 * --target` starts an ephemeral container in the target's PID namespace (non-interactive with both
 * versions, `-it` under a pseudo-terminal), reported in ephemeralContainerStatuses. One cluster for
 * the file; everything is removed by label at the end.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ptyKubectl as ptyKubectlIn, type PtySession } from './harness/pty.ts';
import type { Pod } from 'kubernetes-types/core/v1';
import { kubectlRunner, type KubectlRunner } from './harness/kubectl.ts';
import { eventually } from './harness/wait.ts';
import {
  dockerSuiteSkip,
  startDockerCluster,
  uniqueClusterName,
  type DockerCluster,
} from './harness/docker-cluster.ts';
import { BUSYBOX_IMAGE } from '../core/nodes/docker/images.ts';

const skip = await dockerSuiteSkip();
const name = uniqueClusterName('t-sidecar');
const ns = 'sidecars';
let c: DockerCluster;
let k27: KubectlRunner;
let k33: KubectlRunner;

const B = BUSYBOX_IMAGE;
const manifests = `
apiVersion: v1
kind: Pod
metadata: { name: web, namespace: ${ns}, labels: { suite: sidecars } }
spec:
  terminationGracePeriodSeconds: 2
  volumes: [{ name: shared, emptyDir: {} }]
  initContainers:
  - name: logger
    image: ${B}
    imagePullPolicy: IfNotPresent
    restartPolicy: Always
    command: [sh, -c, 'trap "exit 0" TERM; i=0; while true; do i=$((i+1)); echo "tick $i" | tee -a /shared/log; sleep 1; done']
    volumeMounts: [{ name: shared, mountPath: /shared }]
  - name: wait-for-log
    image: ${B}
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'until [ -s /shared/log ]; do sleep 0.2; done; echo saw the sidecar']
    volumeMounts: [{ name: shared, mountPath: /shared }]
  containers:
  - name: main
    image: ${B}
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'trap "exit 0" TERM; while true; do echo "main read: $(tail -n 1 /shared/log)"; sleep 1; done']
    volumeMounts: [{ name: shared, mountPath: /shared }]
---
apiVersion: v1
kind: Pod
metadata: { name: probed, namespace: ${ns}, labels: { suite: sidecars } }
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  volumes: [{ name: shared, emptyDir: {} }]
  initContainers:
  - name: slow
    image: ${B}
    imagePullPolicy: IfNotPresent
    restartPolicy: Always
    command: [sh, -c, 'trap "exit 0" TERM; sleep 3; touch /shared/up; while true; do sleep 1; done']
    startupProbe: { exec: { command: [test, -f, /shared/up] }, periodSeconds: 1, failureThreshold: 30 }
    volumeMounts: [{ name: shared, mountPath: /shared }]
  - name: next
    image: ${B}
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'test -f /shared/up && echo started after the startup probe']
    volumeMounts: [{ name: shared, mountPath: /shared }]
  containers:
  - { name: main, image: ${B}, imagePullPolicy: IfNotPresent, command: [sleep, '3600'] }
---
apiVersion: batch/v1
kind: Job
metadata: { name: sidejob, namespace: ${ns}, labels: { suite: sidecars } }
spec:
  backoffLimit: 0
  template:
    metadata: { labels: { suite: sidecars } }
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 2
      initContainers:
      - name: helper
        image: ${B}
        imagePullPolicy: IfNotPresent
        restartPolicy: Always
        command: [sh, -c, 'trap "exit 0" TERM; while true; do sleep 1; done']
      containers:
      - name: work
        image: ${B}
        imagePullPolicy: IfNotPresent
        command: [sh, -c, 'sleep 2; echo job done']
---
apiVersion: v1
kind: Pod
metadata: { name: target, namespace: ${ns}, labels: { suite: sidecars } }
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - { name: app, image: ${B}, imagePullPolicy: IfNotPresent, command: [sleep, '3601'] }
`;

const docker = (args: string[]): string => {
  const r = spawnSync('docker', args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

const getPod = async (k: KubectlRunner, p: string): Promise<Pod> =>
  JSON.parse(await k.ok(['-n', ns, 'get', 'pod', p, '-o', 'json'])) as Pod;

/** The READY and STATUS columns of `kubectl get pod`. */
const columns = async (k: KubectlRunner, p: string): Promise<{ ready: string; status: string }> => {
  const f = (await k.ok(['-n', ns, 'get', 'pod', p, '--no-headers'])).trim().split(/\s+/);
  return { ready: f[1] ?? '', status: f[2] ?? '' };
};

/** kubectl under a pty against this suite's cluster (a 120-column terminal: `ps` lines stay whole). */
const ptyKubectl = (version: '1.27' | '1.33', args: string[]): PtySession =>
  ptyKubectlIn(version, args, c, { cols: 120, rows: 30 });

describe('sidecars and ephemeral containers on a Docker node', { skip }, () => {
  before(async () => {
    c = await startDockerCluster({ name, nodes: 1 });
    k27 = kubectlRunner('1.27', c.kubeconfig, c.home);
    k33 = kubectlRunner('1.33', c.kubeconfig, c.home);
    await k33.ok(['create', 'namespace', ns]);
    await eventually(
      'the default service account',
      async () => (await k33.run(['-n', ns, 'get', 'sa', 'default'])).code === 0,
    );
    await k33.ok(['apply', '-f', '-'], { input: manifests });
  });

  after(async () => {
    if (c) {
      await k33?.run(['-n', ns, 'delete', 'pods,jobs', '-l', 'suite=sidecars', '--wait=false']);
      await c.destroy();
      const left = docker(['ps', '-aq', '--filter', `label=dev.berth.cluster=${name}`]).trim();
      assert.equal(left, '', 'containers left behind');
    }
  });

  it('a sidecar runs beside the next init container and the main container: Running, 2/2', async () => {
    await eventually(
      'web Running 2/2',
      async () => {
        const col = await columns(k33, 'web');
        return col.status === 'Running' && col.ready === '2/2';
      },
      90_000,
    );
    const p = await getPod(k33, 'web');
    const [logger, waiter] = p.status?.initContainerStatuses ?? [];
    assert.equal(logger?.name, 'logger');
    assert.ok(logger?.state?.running, JSON.stringify(logger));
    assert.equal(logger?.started, true);
    assert.equal(logger?.ready, true);
    assert.equal(waiter?.state?.terminated?.exitCode, 0, JSON.stringify(waiter));
    const cond = (t: string): string | undefined => p.status?.conditions?.find((x) => x.type === t)?.status;
    assert.equal(cond('Initialized'), 'True');
    assert.equal(cond('Ready'), 'True');
    // The READY column comes from the server's table: kubectl 1.27 shows the sidecar too.
    assert.deepEqual(await columns(k27, 'web'), { ready: '2/2', status: 'Running' });
    for (const k of [k27, k33]) {
      assert.match(await k.ok(['-n', ns, 'logs', 'web', '-c', 'logger']), /tick \d+/);
      assert.match(await k.ok(['-n', ns, 'logs', 'web', '-c', 'wait-for-log']), /saw the sidecar/);
      await eventually(
        'main reads what the sidecar writes',
        async () => /main read: tick \d+/.test(await k.ok(['-n', ns, 'logs', 'web', '-c', 'main'])),
        20_000,
      );
    }
  });

  it("the next init container waits for a sidecar's startup probe", async () => {
    await eventually(
      'probed Running',
      async () => (await columns(k33, 'probed')).status === 'Running',
      60_000,
    );
    const p = await getPod(k33, 'probed');
    const [slow, next] = p.status?.initContainerStatuses ?? [];
    assert.equal(slow?.started, true);
    assert.equal(next?.state?.terminated?.exitCode, 0, JSON.stringify(next));
    // Started no earlier than the sidecar's startup probe could pass (3 s after the sidecar).
    const t = (x?: string): number => Date.parse(x ?? '');
    const gap = t(next?.state?.terminated?.startedAt) - t(slow?.state?.running?.startedAt);
    assert.ok(gap >= 2_000, `next started ${gap} ms after the sidecar`);
    assert.match(await k27.ok(['-n', ns, 'logs', 'probed', '-c', 'next']), /started after the startup probe/);
  });

  it('a Job with a sidecar completes when its main container did', async () => {
    await eventually(
      'sidejob Complete',
      async () => {
        const j = JSON.parse(await k33.ok(['-n', ns, 'get', 'job', 'sidejob', '-o', 'json'])) as {
          status?: { succeeded?: number; conditions?: { type: string; status: string }[] };
        };
        return j.status?.conditions?.some((x) => x.type === 'Complete' && x.status === 'True') === true;
      },
      90_000,
    );
    const pods = JSON.parse(
      await k27.ok(['-n', ns, 'get', 'pods', '-l', 'job-name=sidejob', '-o', 'json']),
    ) as { items: Pod[] };
    assert.equal(pods.items[0]?.status?.phase, 'Succeeded');
    // The sidecar is stopped once the main container is done.
    await eventually(
      'the Job sidecar stopped',
      async () =>
        (await getPod(k33, pods.items[0]?.metadata?.name ?? '')).status?.initContainerStatuses?.[0]?.state
          ?.terminated,
      30_000,
    );
    assert.match(await k27.ok(['-n', ns, 'logs', 'job/sidejob', '-c', 'work']), /job done/);
  });

  it('kubectl debug --target sees the target container processes (1.27 and 1.33)', async () => {
    await eventually(
      'target Running',
      async () => (await columns(k33, 'target')).status === 'Running',
      60_000,
    );
    for (const k of [k27, k33]) {
      const dbg = `dbg${k.version.replace('.', '')}`;
      await k.ok(['-n', ns, 'debug', 'target', `--image=${B}`, '--target=app', '-c', dbg, '--', 'ps']);
      await eventually(
        `${dbg} ran ps`,
        async () => {
          const r = await k.run(['-n', ns, 'logs', 'target', '-c', dbg]);
          return r.code === 0 && /sleep 3601/.test(r.stdout);
        },
        60_000,
      );
    }
    await eventually(
      'both debuggers terminated in ephemeralContainerStatuses',
      async () => {
        const out = await k33.ok([
          '-n',
          ns,
          'get',
          'pod',
          'target',
          '-o',
          'jsonpath={range .status.ephemeralContainerStatuses[*]}{.name}={.state.terminated.exitCode}{"\\n"}{end}',
        ]);
        return out.includes('dbg127=0') && out.includes('dbg133=0');
      },
      30_000,
    );
    // Never restarted; the target kept running.
    const p = await getPod(k33, 'target');
    for (const e of p.status?.ephemeralContainerStatuses ?? []) assert.equal(e.restartCount, 0);
    assert.ok(p.status?.containerStatuses?.[0]?.state?.running);
  });

  for (const version of ['1.27', '1.33'] as const)
    it(`kubectl ${version} debug -it attaches a shell in the target's PID namespace`, async () => {
      const dbg = `tty${version.replace('.', '')}`;
      const s = ptyKubectl(version, [
        '-n',
        ns,
        'debug',
        '-it',
        'target',
        `--image=${B}`,
        '--target=app',
        '-c',
        dbg,
        '--',
        'sh',
      ]);
      try {
        // kubectl says how to reattach once the container runs; the shell answers a newline with a prompt.
        await eventually(
          'a shell prompt',
          () => {
            if (s.isDone()) return true; // reported below
            s.write('\n');
            return /[#$] /.test(s.output());
          },
          60_000,
          500,
        ).catch((e: Error) => {
          throw new Error(`${e.message}\n--- output ---\n${s.output()}`);
        });
        assert.ok(!s.isDone(), `kubectl exited early:\n${s.output()}`);
        s.write('ps; echo PS-$((40+2))\n');
        await eventually(
          'ps output in the pty',
          () => /sleep 3601[\s\S]*PS-42/.test(s.output()),
          20_000,
          100,
        ).catch((e: Error) => {
          throw new Error(`${e.message}\n--- output ---\n${s.output()}`);
        });
        s.write('exit\n');
        assert.equal(await s.exited, 0);
      } finally {
        s.kill();
      }
      // The shell's exit ends the ephemeral container; it is reported terminated, not restarted.
      const jsonpath = `jsonpath={.status.ephemeralContainerStatuses[?(@.name=="${dbg}")].state}`;
      await eventually(
        `${dbg} terminated`,
        async () => /terminated/.test(await k33.ok(['-n', ns, 'get', 'pod', 'target', '-o', jsonpath])),
        30_000,
      );
    });
});
