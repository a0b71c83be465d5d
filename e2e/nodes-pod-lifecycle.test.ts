/**
 * Issue "Real worker nodes", pod lifecycle on a real Docker node (containerd through the kubelet's
 * CRI client), driven by real kubectl 1.27 and 1.33: liveness restarts, readiness gating Ready,
 * OOMKilled (137), SIGTERM (143), CrashLoopBackOff with growing delays, two containers sharing
 * localhost and an emptyDir, configMap/secret volumes and env refs, init containers first (Init:N/M),
 * image pull errors, activeDeadlineSeconds and graceful deletion. One cluster for the file; everything
 * is removed by label at the end.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
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
const name = uniqueClusterName('t-podlc');
const ns = 'lifecycle';
let c: DockerCluster;
let k27: KubectlRunner;
let k33: KubectlRunner;

const docker = (args: string[], input?: string): string => {
  const r = spawnSync('docker', args, { encoding: 'utf8', ...(input !== undefined ? { input } : {}) });
  assert.equal(r.status, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

const pod = async (k: KubectlRunner, pod: string): Promise<Pod> =>
  JSON.parse(await k.ok(['-n', ns, 'get', 'pod', pod, '-o', 'json'])) as Pod;

/** The STATUS column of `kubectl get pod` (printed by the server's table, as kubectl shows it). */
const statusColumn = async (k: KubectlRunner, p: string): Promise<string> => {
  const out = await k.ok(['-n', ns, 'get', 'pod', p, '--no-headers']);
  return out.trim().split(/\s+/)[2] ?? '';
};

/**
 * What the suite saw over time (every ~0.3 s from the start): each pod's JSON and its STATUS and READY
 * columns, so tests can assert on transitions however long the tests before them took.
 */
const seen = new Map<string, { pod: Pod; ready: string; status: string }[]>();
let recording = true;
async function record(k: KubectlRunner): Promise<void> {
  while (recording) {
    const [json, table] = await Promise.all([
      k.run(['-n', ns, 'get', 'pods', '-o', 'json']),
      k.run(['-n', ns, 'get', 'pods', '--no-headers']),
    ]);
    if (json.code === 0 && table.code === 0) {
      const cols = new Map(
        table.stdout
          .trim()
          .split('\n')
          .map((l) => l.split(/\s+/))
          .map((f) => [f[0] ?? '', { ready: f[1] ?? '', status: f[2] ?? '' }] as const),
      );
      for (const p of (JSON.parse(json.stdout) as { items: Pod[] }).items) {
        const n = p.metadata?.name ?? '';
        const col = cols.get(n);
        if (!col) continue;
        const l = seen.get(n) ?? [];
        l.push({ pod: p, ...col });
        seen.set(n, l);
      }
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}
const history = (p: string): { pod: Pod; ready: string; status: string }[] => seen.get(p) ?? [];

const B = BUSYBOX_IMAGE;
const common = `
  terminationGracePeriodSeconds: 1`;

const manifests = `
apiVersion: v1
kind: ConfigMap
metadata: { name: cfg, namespace: ${ns}, labels: { suite: podlc } }
data: { greeting: hello-from-configmap, color: blue }
---
apiVersion: v1
kind: Secret
metadata: { name: sec, namespace: ${ns}, labels: { suite: podlc } }
stringData: { password: s3cr3t }
---
apiVersion: v1
kind: Pod
metadata: { name: liveness, namespace: ${ns}, labels: { suite: podlc } }
spec:${common}
  containers:
  - name: c
    image: ${B}
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'echo run; touch /tmp/healthy; sleep 2; rm /tmp/healthy; sleep 3600']
    livenessProbe: { exec: { command: [cat, /tmp/healthy] }, periodSeconds: 1, failureThreshold: 1 }
---
apiVersion: v1
kind: Pod
metadata: { name: readiness, namespace: ${ns}, labels: { suite: podlc } }
spec:${common}
  containers:
  - name: c
    image: ${B}
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'sleep 6; touch /tmp/ready; sleep 3600']
    readinessProbe: { exec: { command: [cat, /tmp/ready] }, periodSeconds: 1 }
---
apiVersion: v1
kind: Pod
metadata: { name: startup, namespace: ${ns}, labels: { suite: podlc } }
spec:${common}
  containers:
  - name: c
    image: ${B}
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'sleep 6; touch /tmp/started; sleep 3600']
    startupProbe: { exec: { command: [cat, /tmp/started] }, periodSeconds: 1, failureThreshold: 30 }
    livenessProbe: { exec: { command: [cat, /tmp/started] }, periodSeconds: 1, failureThreshold: 1 }
---
apiVersion: v1
kind: Pod
metadata: { name: oom, namespace: ${ns}, labels: { suite: podlc } }
spec:${common}
  restartPolicy: Never
  containers:
  - name: c
    image: ${B}
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'head -c 200m /dev/zero | tail']
    resources: { limits: { memory: 32Mi } }
---
apiVersion: v1
kind: Pod
metadata: { name: sigterm, namespace: ${ns}, labels: { suite: podlc } }
spec:${common}
  restartPolicy: Never
  shareProcessNamespace: true
  containers:
  - name: c
    image: ${B}
    imagePullPolicy: IfNotPresent
    command: [sleep, '3600']
    livenessProbe: { exec: { command: ['false'] }, initialDelaySeconds: 1, periodSeconds: 1, failureThreshold: 1 }
---
apiVersion: v1
kind: Pod
metadata: { name: crash, namespace: ${ns}, labels: { suite: podlc } }
spec:${common}
  containers:
  - name: c
    image: ${B}
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'echo crashing; exit 3']
---
apiVersion: v1
kind: Pod
metadata: { name: shared, namespace: ${ns}, labels: { suite: podlc } }
spec:${common}
  restartPolicy: OnFailure
  containers:
  - name: web
    image: ${B}
    imagePullPolicy: IfNotPresent
    command: [httpd, -f, -p, '8080', -h, /shared]
    volumeMounts: [ { name: shared, mountPath: /shared } ]
  - name: client
    image: ${B}
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'echo hello-through-emptydir > /shared/index.html; sleep 1; wget -qO /dev/termination-log http://localhost:8080/index.html']
    volumeMounts: [ { name: shared, mountPath: /shared } ]
  volumes: [ { name: shared, emptyDir: {} } ]
---
apiVersion: v1
kind: Pod
metadata: { name: config, namespace: ${ns}, labels: { suite: podlc } }
spec:${common}
  restartPolicy: Never
  containers:
  - name: c
    image: ${B}
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'echo "$(cat /cfg/greeting) $(cat /sec/password) $GREETING $PASSWORD $color $POD_IP" > /dev/termination-log']
    env:
    - { name: GREETING, valueFrom: { configMapKeyRef: { name: cfg, key: greeting } } }
    - { name: PASSWORD, valueFrom: { secretKeyRef: { name: sec, key: password } } }
    - { name: POD_IP, valueFrom: { fieldRef: { fieldPath: status.podIP } } }
    envFrom: [ { configMapRef: { name: cfg }, prefix: "" } ]
    volumeMounts:
    - { name: cfg, mountPath: /cfg }
    - { name: sec, mountPath: /sec }
  volumes:
  - { name: cfg, configMap: { name: cfg } }
  - { name: sec, secret: { secretName: sec } }
---
apiVersion: v1
kind: Pod
metadata: { name: init, namespace: ${ns}, labels: { suite: podlc } }
spec:${common}
  restartPolicy: Never
  initContainers:
  - name: first
    image: ${B}
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'sleep 3; echo init-ran-first > /work/marker']
    volumeMounts: [ { name: work, mountPath: /work } ]
  containers:
  - name: main
    image: ${B}
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'cat /work/marker > /dev/termination-log']
    volumeMounts: [ { name: work, mountPath: /work } ]
  volumes: [ { name: work, emptyDir: {} } ]
---
apiVersion: v1
kind: Pod
metadata: { name: initfail, namespace: ${ns}, labels: { suite: podlc } }
spec:${common}
  restartPolicy: Never
  initContainers: [ { name: i, image: ${B}, imagePullPolicy: IfNotPresent, command: [sh, -c, 'exit 7'] } ]
  containers: [ { name: c, image: ${B}, imagePullPolicy: IfNotPresent, command: ['true'] } ]
---
apiVersion: v1
kind: Pod
metadata: { name: initloop, namespace: ${ns}, labels: { suite: podlc } }
spec:${common}
  initContainers: [ { name: i, image: ${B}, imagePullPolicy: IfNotPresent, command: [sh, -c, 'exit 1'] } ]
  containers: [ { name: c, image: ${B}, imagePullPolicy: IfNotPresent, command: ['true'] } ]
---
apiVersion: v1
kind: Pod
metadata: { name: prestop, namespace: ${ns}, labels: { suite: podlc } }
spec:
  terminationGracePeriodSeconds: 5
  containers:
  - name: c
    image: ${B}
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'trap "echo got-sigterm >> /host/trace; exit 0" TERM; while true; do sleep 0.2; done']
    lifecycle: { preStop: { exec: { command: [sh, -c, 'echo prestop >> /host/trace'] } } }
    volumeMounts: [ { name: host, mountPath: /host } ]
  volumes: [ { name: host, hostPath: { path: /var/lib/berth-e2e-prestop, type: DirectoryOrCreate } } ]
---
apiVersion: v1
kind: Pod
metadata: { name: hostnet, namespace: ${ns}, labels: { suite: podlc } }
spec:${common}
  restartPolicy: Never
  hostNetwork: true
  containers:
  - { name: c, image: ${B}, imagePullPolicy: IfNotPresent, command: [sh, -c, 'hostname > /dev/termination-log'] }
---
apiVersion: v1
kind: Pod
metadata: { name: hostport, namespace: ${ns}, labels: { suite: podlc } }
spec:${common}
  containers:
  - name: c
    image: ${B}
    imagePullPolicy: IfNotPresent
    command: [httpd, -f, -p, '8080', -h, /www]
    ports: [ { containerPort: 8080, hostPort: 18080 } ]
    readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 }
---
apiVersion: v1
kind: Pod
metadata: { name: pullfail, namespace: ${ns}, labels: { suite: podlc } }
spec:${common}
  containers:
  - { name: c, image: "127.0.0.1:1/berth/none:1" }
---
apiVersion: v1
kind: Pod
metadata: { name: deadline, namespace: ${ns}, labels: { suite: podlc } }
spec:${common}
  activeDeadlineSeconds: 4
  containers:
  - { name: c, image: ${B}, imagePullPolicy: IfNotPresent, command: [sleep, '3600'] }
`;

describe('pod lifecycle on a Docker node', { skip }, () => {
  let recorder: Promise<void> | undefined;
  before(async () => {
    c = await startDockerCluster({ name, nodes: 1 });
    k27 = kubectlRunner('1.27', c.kubeconfig, c.home);
    k33 = kubectlRunner('1.33', c.kubeconfig, c.home);
    await k33.ok(['create', 'namespace', ns]);
    await eventually(
      'the default service account',
      async () => (await k33.run(['-n', ns, 'get', 'sa', 'default'])).code === 0,
    );
    await k27.ok(['apply', '-f', '-'], { input: manifests });
    recorder = record(k33);
  });

  after(async () => {
    recording = false;
    await recorder;
    if (c) {
      await k33?.run(['-n', ns, 'delete', 'pods,configmaps,secrets', '-l', 'suite=podlc', '--wait=false']);
      await c.destroy();
      // Nothing labelled with the cluster may remain.
      const left = docker(['ps', '-aq', '--filter', `label=dev.berth.cluster=${name}`]).trim();
      assert.equal(left, '', 'containers left behind');
    }
  });

  it('a readiness probe gates the Ready condition', async () => {
    const ready = (x: Pod): string | undefined =>
      x.status?.conditions?.find((q) => q.type === 'Ready')?.status;
    await eventually('Ready=True', () => history('readiness').some((h) => ready(h.pod) === 'True'), 30_000);
    const h = history('readiness');
    const early = h.find((x) => x.pod.status?.containerStatuses?.[0]?.state?.running);
    assert.ok(early, 'seen running');
    assert.equal(ready(early.pod), 'False');
    assert.equal(early.pod.status?.containerStatuses?.[0]?.ready, false);
    assert.deepEqual([early.ready, early.status], ['0/1', 'Running']);
    const later = h.find((x) => ready(x.pod) === 'True');
    assert.equal(later?.pod.status?.conditions?.find((q) => q.type === 'ContainersReady')?.status, 'True');
    assert.match(
      (await k27.ok(['-n', ns, 'get', 'pod', 'readiness', '--no-headers'])).trim(),
      /^readiness\s+1\/1\s+Running\s+0/,
    );
  });

  it('a startup probe holds back started, ready and the liveness probe', async () => {
    await eventually(
      'started and ready',
      () => history('startup').some((h) => h.pod.status?.containerStatuses?.[0]?.ready),
      30_000,
    );
    const h = history('startup');
    const early = h.find((x) => x.pod.status?.containerStatuses?.[0]?.state?.running);
    assert.equal(early?.pod.status?.containerStatuses?.[0]?.started, false);
    assert.equal(early?.pod.status?.containerStatuses?.[0]?.ready, false);
    const later = await pod(k27, 'startup');
    assert.equal(later.status?.containerStatuses?.[0]?.started, true);
    // The liveness probe (failing before /tmp/started exists) never ran before startup succeeded.
    assert.equal(later.status?.containerStatuses?.[0]?.restartCount, 0);
    assert.equal(later.status?.conditions?.find((q) => q.type === 'Ready')?.status, 'True');
  });

  it('an init container runs first: Init:0/1, then the main container sees its output', async () => {
    assert.ok(
      history('init').some((h) => h.status === 'Init:0/1'),
      `Init:0/1 seen: ${history('init')
        .map((h) => h.status)
        .join(' ')}`,
    );
    const p = await eventually(
      'the init pod to succeed',
      async () => {
        const x = await pod(k27, 'init');
        return x.status?.phase === 'Succeeded' && x;
      },
      60_000,
    );
    assert.equal(p.status?.initContainerStatuses?.[0]?.state?.terminated?.reason, 'Completed');
    assert.equal(p.status?.containerStatuses?.[0]?.state?.terminated?.message, 'init-ran-first\n');
    const initFinished = Date.parse(
      p.status?.initContainerStatuses?.[0]?.state?.terminated?.finishedAt ?? '',
    );
    const mainStarted = Date.parse(p.status?.containerStatuses?.[0]?.state?.terminated?.startedAt ?? '');
    assert.ok(initFinished <= mainStarted, 'main started after init finished');
    const initialized = p.status?.conditions?.find((x) => x.type === 'Initialized');
    assert.equal(initialized?.status, 'True');
    assert.equal(await statusColumn(k27, 'init'), 'Completed');
  });

  it('two containers share localhost and an emptyDir', async () => {
    const p = await eventually(
      'the client container to finish',
      async () => {
        const x = await pod(k33, 'shared');
        const client = x.status?.containerStatuses?.find((s) => s.name === 'client');
        return client?.state?.terminated && x;
      },
      60_000,
    );
    const client = p.status?.containerStatuses?.find((s) => s.name === 'client');
    assert.equal(client?.state?.terminated?.exitCode, 0);
    assert.equal(client?.state?.terminated?.reason, 'Completed');
    assert.equal(client?.state?.terminated?.message, 'hello-through-emptydir\n');
    const web = p.status?.containerStatuses?.find((s) => s.name === 'web');
    assert.ok(web?.state?.running, 'web keeps running');
    assert.equal(p.status?.phase, 'Running');
    assert.match(p.status?.podIP ?? '', /^10\.244\./);
  });

  it('configMap and secret volumes and env refs show their values', async () => {
    const p = await eventually(
      'the config pod to succeed',
      async () => {
        const x = await pod(k27, 'config');
        return (x.status?.phase === 'Succeeded' || x.status?.phase === 'Failed') && x;
      },
      60_000,
    );
    assert.equal(p.status?.phase, 'Succeeded', JSON.stringify(p.status));
    const msg = p.status?.containerStatuses?.[0]?.state?.terminated?.message ?? '';
    assert.equal(
      msg,
      `hello-from-configmap s3cr3t hello-from-configmap s3cr3t blue ${p.status?.podIP ?? ''}\n`,
    );
  });

  it('a failing liveness probe restarts the container; the old log stays on the node', async () => {
    const p = await eventually(
      'a restart after the liveness failure',
      async () => {
        const x = await pod(k27, 'liveness');
        const s = x.status?.containerStatuses?.[0];
        return (s?.restartCount ?? 0) >= 1 && s?.lastState?.terminated && x;
      },
      60_000,
    );
    const s = p.status?.containerStatuses?.[0];
    assert.equal(
      s?.lastState?.terminated?.exitCode,
      137,
      'sh as PID 1 ignores SIGTERM: killed after the grace period',
    );
    assert.match(
      (await k33.ok(['-n', ns, 'get', 'pod', 'liveness', '--no-headers'])).trim(),
      /^liveness\s+[01]\/1\s+\S+\s+[1-9]/,
    );
    const events = await k33.ok([
      '-n',
      ns,
      'get',
      'events',
      '--field-selector',
      'involvedObject.name=liveness',
      '-o',
      'json',
    ]);
    const list = (
      JSON.parse(events) as {
        items: { reason: string; message: string; source?: { component?: string; host?: string } }[];
      }
    ).items;
    assert.ok(
      list.some((e) => e.reason === 'Unhealthy' && /^Liveness probe failed: /.test(e.message)),
      events,
    );
    assert.ok(
      list.some(
        (e) => e.reason === 'Killing' && e.message === 'Container c failed liveness probe, will be restarted',
      ),
    );
    assert.ok(
      list.every(
        (e) =>
          e.reason === 'Scheduled' || (e.source?.component === 'kubelet' && e.source.host === c.nodes[0]),
      ),
    );
    const uid = p.metadata?.uid ?? '';
    const logs = docker([
      'exec',
      `berth-${name}.${c.nodes[0]}`,
      'ls',
      `/var/log/pods/${ns}_liveness_${uid}/c`,
    ]);
    assert.match(logs, /^0\.log$/m);
    assert.match(logs, /^1\.log$/m);
  });

  it('a container over its memory limit is OOMKilled with exit code 137', async () => {
    const p = await eventually(
      'the oom pod to fail',
      async () => {
        const x = await pod(k33, 'oom');
        return x.status?.phase === 'Failed' && x;
      },
      60_000,
    );
    const t = p.status?.containerStatuses?.[0]?.state?.terminated;
    assert.equal(t?.reason, 'OOMKilled');
    assert.equal(t?.exitCode, 137);
    assert.equal(await statusColumn(k27, 'oom'), 'OOMKilled');
  });

  it('a container stopped by SIGTERM reports 143', async () => {
    const p = await eventually(
      'the sigterm pod to fail',
      async () => {
        const x = await pod(k27, 'sigterm');
        return x.status?.phase === 'Failed' && x;
      },
      60_000,
    );
    const t = p.status?.containerStatuses?.[0]?.state?.terminated;
    assert.equal(t?.exitCode, 143);
    assert.equal(t?.reason, 'Error');
  });

  it('a crashing container goes to CrashLoopBackOff with growing delays', async () => {
    const waiting = (x: Pod): { reason?: string; message?: string } | undefined =>
      x.status?.containerStatuses?.[0]?.state?.waiting;
    await eventually(
      'the back-off to double',
      () => history('crash').some((h) => waiting(h.pod)?.message?.startsWith('back-off 20s')),
      45_000,
    );
    const h = history('crash');
    const first = h.find((x) => waiting(x.pod)?.reason === 'CrashLoopBackOff');
    const uid = first?.pod.metadata?.uid ?? '';
    assert.equal(
      waiting(first?.pod ?? {})?.message,
      `back-off 10s restarting failed container=c pod=crash_${ns}(${uid})`,
    );
    assert.equal(first?.pod.status?.containerStatuses?.[0]?.lastState?.terminated?.exitCode, 3);
    assert.equal(first?.status, 'CrashLoopBackOff');
    const grown = h.find((x) => waiting(x.pod)?.message?.startsWith('back-off 20s'));
    assert.ok((grown?.pod.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2);
    assert.equal(grown?.pod.status?.phase, 'Running');
    // The restarts themselves are spaced by the growing back-off.
    const crashes = [
      ...new Set(
        h.map((x) => x.pod.status?.containerStatuses?.[0]?.lastState?.terminated?.finishedAt).filter(Boolean),
      ),
    ].map((t) => Date.parse(t ?? ''));
    if (crashes.length >= 3)
      assert.ok((crashes[2] ?? 0) - (crashes[1] ?? 0) >= 9_000, `crash times ${crashes.join(' ')}`);
  });

  it('an unreachable registry gives ErrImagePull, then ImagePullBackOff', async () => {
    const reasons = (): string[] =>
      history('pullfail').map((h) => h.pod.status?.containerStatuses?.[0]?.state?.waiting?.reason ?? '');
    await eventually(
      'ImagePullBackOff after ErrImagePull',
      () => {
        const r = reasons();
        const err = r.indexOf('ErrImagePull');
        return err >= 0 && r.indexOf('ImagePullBackOff', err) > err;
      },
      40_000,
    );
    const events = await k27.ok([
      '-n',
      ns,
      'get',
      'events',
      '--field-selector',
      'involvedObject.name=pullfail',
    ]);
    assert.match(events, /Failed to pull image "127\.0\.0\.1:1\/berth\/none:1"/);
    assert.match(events, /Back-off pulling image/);
  });

  it('init container failures: Init:Error with restartPolicy Never, Init:CrashLoopBackOff otherwise', async () => {
    const failed = await eventually('the initfail pod to fail', async () => {
      const x = await pod(k33, 'initfail');
      return x.status?.phase === 'Failed' && x;
    });
    assert.equal(failed.status?.initContainerStatuses?.[0]?.state?.terminated?.exitCode, 7);
    assert.equal(failed.status?.containerStatuses?.[0]?.state?.waiting?.reason, 'PodInitializing');
    assert.equal(await statusColumn(k27, 'initfail'), 'Init:Error');
    const looping = await eventually('Init:CrashLoopBackOff', async () => {
      const s = await statusColumn(k33, 'initloop');
      return s === 'Init:CrashLoopBackOff' && s;
    });
    assert.equal(looping, 'Init:CrashLoopBackOff');
    assert.equal((await pod(k27, 'initloop')).status?.phase, 'Pending');
  });

  it("hostNetwork: the node's address and hostname; hostPort reaches the pod through the node", async () => {
    const p = await eventually('the hostnet pod to finish', async () => {
      const x = await pod(k27, 'hostnet');
      return (x.status?.phase === 'Succeeded' || x.status?.phase === 'Failed') && x;
    });
    assert.equal(p.status?.phase, 'Succeeded');
    assert.equal(p.status?.podIP, p.status?.hostIP);
    assert.equal(p.status?.containerStatuses?.[0]?.state?.terminated?.message, `${c.nodes[0]}\n`);
    const hp = await eventually('the hostport pod ready', async () => {
      const x = await pod(k33, 'hostport');
      return x.status?.containerStatuses?.[0]?.ready && x;
    });
    const out = docker([
      'exec',
      `berth-${name}.${c.nodes[0]}`,
      'node',
      '-e',
      `require('http').get('http://${hp.status?.hostIP ?? ''}:18080/cgi-bin/hostname', (r) => { let b = ''; r.on('data', (d) => (b += d)); r.on('end', () => console.log(b.trim())); }).on('error', (e) => { console.error(e.message); process.exit(1); });`,
    ]);
    assert.equal(out.trim(), 'hostport');
  });

  it('activeDeadlineSeconds fails the pod with DeadlineExceeded', async () => {
    const p = await eventually(
      'the deadline pod to fail',
      async () => {
        const x = await pod(k27, 'deadline');
        return x.status?.phase === 'Failed' && x;
      },
      40_000,
    );
    assert.equal(p.status?.reason, 'DeadlineExceeded');
    assert.equal(p.status?.message, 'Pod was active on the node longer than the specified deadline');
    assert.ok(p.status?.containerStatuses?.[0]?.state?.terminated, 'the container was stopped');
  });

  it('deletion runs the preStop hook, then SIGTERM, within the grace period', async () => {
    await eventually(
      'the prestop pod running',
      async () => (await pod(k27, 'prestop')).status?.phase === 'Running',
    );
    const t0 = Date.now();
    await k27.ok(['-n', ns, 'delete', 'pod', 'prestop', '--timeout=60s'], { timeoutMs: 70_000 });
    const took = Date.now() - t0;
    assert.ok(took < 5_000, `the container exits on SIGTERM: deletion took ${took} ms`);
    const trace = docker(['exec', `berth-${name}.${c.nodes[0]}`, 'cat', '/var/lib/berth-e2e-prestop/trace']);
    assert.equal(trace, 'prestop\ngot-sigterm\n');
  });

  it('graceful deletion stops the containers and removes the pod and its sandbox', async () => {
    const p = await pod(k33, 'readiness');
    const t0 = Date.now();
    await k33.ok(['-n', ns, 'delete', 'pod', 'readiness', '--timeout=60s'], { timeoutMs: 70_000 });
    const took = Date.now() - t0;
    // sh ignores SIGTERM as PID 1: SIGKILL after the 1 s grace period.
    assert.ok(took >= 900 && took < 20_000, `deletion took ${took} ms`);
    const uid = p.metadata?.uid ?? '';
    const sandboxes = docker([
      'exec',
      `berth-${name}.${c.nodes[0]}`,
      'ctr',
      '-n',
      'k8s.io',
      'containers',
      'ls',
      '-q',
    ]);
    const labels = docker([
      'exec',
      `berth-${name}.${c.nodes[0]}`,
      'sh',
      '-c',
      `ctr -n k8s.io containers ls | grep -c ${uid} || true`,
    ]);
    assert.equal(labels.trim(), '0', `containers of the deleted pod remain: ${sandboxes}`);
  });
});
