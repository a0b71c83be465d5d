/**
 * The kubelet's pod lifecycle against a real (in-process) API server and an in-memory container
 * runtime that behaves like CRI: adoption of running pods after an agent restart, removal of orphaned
 * sandboxes, restarts with CrashLoopBackOff, graceful deletion and force deletion. Docker-free; the
 * e2e suite (e2e/nodes-pod-lifecycle.test.ts) covers the same with containerd.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1';
import type { KObject } from '../../api/object.ts';
import { StatusError } from '../../api/status.ts';
import { startCluster, type RunningCluster } from '../../cluster/cluster.ts';
import type { KubeClient } from '../../client/types.ts';
import { waitFor } from '../../testing/wait.ts';
import { CriError, type CriClient } from '../cri/client.ts';
import type {
  CriContainer,
  CriContainerConfig,
  CriContainerFilter,
  CriContainerStatus,
  CriPodSandbox,
  CriPodSandboxConfig,
  CriPodSandboxFilter,
} from '../cri/types.ts';
import { startKubelet, type Kubelet } from './kubelet.ts';

const PODS = { group: '', version: 'v1', resource: 'pods' };
const NODES = { group: '', version: 'v1', resource: 'nodes' };
const NS = 'default';

/** An in-memory runtime with CRI's semantics for the calls the kubelet makes. */
class FakeRuntime {
  sandboxes = new Map<string, CriPodSandbox & { config: CriPodSandboxConfig }>();
  containers = new Map<string, CriContainerStatus & { podSandboxId: string }>();
  calls: string[] = [];
  /** ContainerStatus calls (reads of a container back). */
  statusReads = 0;
  /** ListPodSandbox calls filtered by pod: one per pod sync. */
  podSandboxLists = 0;
  private seq = 0;
  private now = (): number => Date.now() * 1e6;

  private matches(labels: Record<string, string>, sel?: Record<string, string>): boolean {
    return Object.entries(sel ?? {}).every(([k, v]) => labels[k] === v);
  }

  /** Adds a ready sandbox with a running container (as left by an earlier agent). */
  seed(config: CriPodSandboxConfig, container?: CriContainerConfig): { sandbox: string; container?: string } {
    const sandbox = `sb${++this.seq}`;
    this.sandboxes.set(sandbox, {
      id: sandbox,
      metadata: config.metadata,
      state: 'SANDBOX_READY',
      createdAt: this.now(),
      labels: config.labels ?? {},
      annotations: config.annotations ?? {},
      runtimeHandler: '',
      config,
    });
    if (!container) return { sandbox };
    const id = this.create(sandbox, container);
    this.start(id);
    return { sandbox, container: id };
  }

  private create(podSandboxId: string, config: CriContainerConfig): string {
    const id = `c${++this.seq}`;
    this.containers.set(id, {
      id,
      podSandboxId,
      metadata: config.metadata,
      state: 'CONTAINER_CREATED',
      createdAt: this.now(),
      startedAt: 0,
      finishedAt: 0,
      exitCode: 0,
      image: config.image,
      imageRef: 'sha256:busybox',
      reason: '',
      message: '',
      labels: config.labels ?? {},
      annotations: config.annotations ?? {},
      mounts: config.mounts ?? [],
      logPath: '',
      imageId: 'sha256:busybox',
    });
    return id;
  }

  private start(id: string): void {
    const c = this.containers.get(id);
    if (c) Object.assign(c, { state: 'CONTAINER_RUNNING', startedAt: this.now() });
  }

  /** The container's process ends by itself. */
  exit(id: string, exitCode: number, reason = ''): void {
    const c = this.containers.get(id);
    if (c) Object.assign(c, { state: 'CONTAINER_EXITED', exitCode, reason, finishedAt: this.now() });
  }

  running(name: string): (CriContainerStatus & { podSandboxId: string }) | undefined {
    return [...this.containers.values()].find(
      (c) => c.metadata?.name === name && c.state === 'CONTAINER_RUNNING',
    );
  }

  private notFound(rpc: string, id: string): CriError {
    return new CriError(rpc, 5, `an object with id ${id} not found`);
  }

  client(): CriClient {
    const api = {
      listPodSandbox: async (f?: CriPodSandboxFilter) => {
        if (f?.labelSelector) this.podSandboxLists++;
        return [...this.sandboxes.values()].filter(
          (s) => (!f?.id || f.id === s.id) && this.matches(s.labels, f?.labelSelector),
        );
      },
      runPodSandbox: async (config: CriPodSandboxConfig) => {
        this.calls.push(`RunPodSandbox ${config.metadata.name}`);
        return this.seed(config).sandbox;
      },
      podSandboxStatus: async (id: string) => {
        const s = this.sandboxes.get(id);
        if (!s) throw this.notFound('PodSandboxStatus', id);
        return { status: { ...s, network: { ip: '10.244.0.9', additionalIps: [] } }, info: {} };
      },
      stopPodSandbox: async (id: string) => {
        this.calls.push(`StopPodSandbox ${id}`);
        const s = this.sandboxes.get(id);
        if (s) s.state = 'SANDBOX_NOTREADY';
        for (const c of this.containers.values())
          if (c.podSandboxId === id && c.state === 'CONTAINER_RUNNING') this.exit(c.id, 137);
      },
      removePodSandbox: async (id: string) => {
        this.calls.push(`RemovePodSandbox ${id}`);
        this.sandboxes.delete(id);
        for (const c of [...this.containers.values()])
          if (c.podSandboxId === id) this.containers.delete(c.id);
      },
      listContainers: async (f?: CriContainerFilter): Promise<CriContainer[]> =>
        [...this.containers.values()].filter(
          (c) =>
            (!f?.podSandboxId || f.podSandboxId === c.podSandboxId) &&
            (!f?.state || f.state.state === c.state) &&
            this.matches(c.labels, f?.labelSelector),
        ),
      containerStatus: async (id: string) => {
        this.statusReads++;
        const c = this.containers.get(id);
        if (!c) throw this.notFound('ContainerStatus', id);
        return { status: { ...c }, info: {} };
      },
      createContainer: async (sandbox: string, config: CriContainerConfig) => {
        this.calls.push(`CreateContainer ${config.metadata.name} ${config.metadata.attempt ?? 0}`);
        return this.create(sandbox, config);
      },
      startContainer: async (id: string) => this.start(id),
      stopContainer: async (id: string, timeout: number) => {
        this.calls.push(`StopContainer ${this.containers.get(id)?.metadata?.name ?? id} ${timeout}`);
        const c = this.containers.get(id);
        if (c?.state === 'CONTAINER_RUNNING') this.exit(id, 143);
      },
      removeContainer: async (id: string) => {
        this.containers.delete(id);
      },
      execSync: async () => ({ stdout: Buffer.from(''), stderr: Buffer.from(''), exitCode: 0 }),
      imageStatus: async () => ({
        id: 'sha256:busybox',
        repoTags: ['localhost/berth/busybox:1.35'],
        repoDigests: [],
        size: 1,
        username: '',
        pinned: false,
      }),
      pullImage: async () => 'sha256:busybox',
    };
    return api as unknown as CriClient;
  }
}

/** Each test has a node of its own (named after its first pod), so kubelets never share pods. */
const podManifest = (name: string, spec: Record<string, unknown> = {}, node = name): KObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: NS },
  spec: {
    nodeName: node,
    automountServiceAccountToken: false,
    terminationGracePeriodSeconds: 30,
    containers: [{ name: 'c', image: 'localhost/berth/busybox:1.35', imagePullPolicy: 'IfNotPresent' }],
    ...spec,
  },
});

describe('kubelet pod lifecycle (in-memory runtime)', () => {
  let dir: string;
  let cluster: RunningCluster;
  let client: KubeClient;
  const kubelets: Kubelet[] = [];

  const start = (runtime: FakeRuntime, node: string): Kubelet => {
    const k = startKubelet({
      client,
      nodeName: node,
      cri: runtime.client(),
      hostIP: '172.29.0.2',
      clusterDomain: 'cluster.local',
      clusterDNS: ['10.96.0.10'],
      rootDir: join(dir, 'root'),
      log: () => {},
      relistMs: 100,
    });
    kubelets.push(k);
    return k;
  };
  const getPod = async (name: string): Promise<Pod> => (await client.get(PODS, NS, name)) as unknown as Pod;
  const gone = async (name: string): Promise<boolean> => {
    try {
      await client.get(PODS, NS, name);
      return false;
    } catch (e) {
      return e instanceof StatusError && e.code === 404;
    }
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-kubelet-'));
    cluster = await startCluster({ dataDir: join(dir, 'data'), apiPort: 0, disableScheduler: true });
    client = cluster.controllerClient.asKubeClient();
    for (const name of ['quiet', 'crashy', 'adopted', 'graceful', 'forced', 'once', 'resandbox'])
      await client.create(NODES, '', { apiVersion: 'v1', kind: 'Node', metadata: { name } });
    const sa = { group: '', version: 'v1', resource: 'serviceaccounts' };
    await waitFor('the default service account', () => client.get(sa, NS, 'default'), 10_000, 50);
  });

  after(async () => {
    for (const k of kubelets) await k.stop();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a pod runs: sandbox, container, Running with its IP; a crash restarts it, then CrashLoopBackOff', async () => {
    const rt = new FakeRuntime();
    const k = start(rt, 'crashy');
    await client.create(PODS, NS, podManifest('crashy'));
    const running = await waitFor('crashy Running', async () => {
      const p = await getPod('crashy');
      return p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.state?.running && p;
    });
    assert.equal(running.status?.podIP, '10.244.0.9');
    assert.match(running.status?.containerStatuses?.[0]?.containerID ?? '', /^containerd:\/\/c\d+$/);
    assert.equal(running.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    // First crash: restarted at once (attempt 1).
    rt.exit(rt.running('c')?.id ?? '', 1);
    const restarted = await waitFor('restart 1', async () => {
      const p = await getPod('crashy');
      const s = p.status?.containerStatuses?.[0];
      return s?.restartCount === 1 && s.state?.running && p;
    });
    assert.equal(restarted.status?.containerStatuses?.[0]?.lastState?.terminated?.exitCode, 1);
    // Second crash within 10 s: back-off.
    rt.exit(rt.running('c')?.id ?? '', 2);
    const backoff = await waitFor('CrashLoopBackOff', async () => {
      const p = await getPod('crashy');
      const w = p.status?.containerStatuses?.[0]?.state?.waiting;
      return w?.reason === 'CrashLoopBackOff' && p;
    });
    const uid = backoff.metadata?.uid ?? '';
    assert.equal(
      backoff.status?.containerStatuses?.[0]?.state?.waiting?.message,
      `back-off 10s restarting failed container=c pod=crashy_default(${uid})`,
    );
    assert.equal(backoff.status?.containerStatuses?.[0]?.lastState?.terminated?.exitCode, 2);
    assert.equal(backoff.status?.phase, 'Running');
    assert.equal(rt.calls.filter((c) => c.startsWith('CreateContainer c')).length, 2);
    await k.stop();
  });

  test('Running is written from the start result in one sync; relists with no news sync nothing', async () => {
    const rt = new FakeRuntime();
    start(rt, 'quiet');
    await client.create(PODS, NS, podManifest('quiet'));
    const running = await waitFor('quiet Running', async () => {
      const p = await getPod('quiet');
      return p.status?.phase === 'Running' && p;
    });
    const st = running.status?.containerStatuses?.[0];
    assert.ok(st?.state?.running?.startedAt, 'running with its start time');
    assert.match(st?.containerID ?? '', /^containerd:\/\/c\d+$/);
    assert.equal(st?.imageID, 'sha256:busybox');
    // Six relists (every 100 ms) see the sandbox and container the worker made: no news, no sync.
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(rt.podSandboxLists, 1, 'one sync: the one that started the pod');
    assert.equal(rt.statusReads, 0, 'the container was never read back');
    // News: the container exits; the next relist syncs the pod.
    rt.exit(rt.running('c')?.id ?? '', 0);
    await waitFor('quiet restarted', async () => {
      const p = await getPod('quiet');
      return p.status?.containerStatuses?.[0]?.restartCount === 1 && p;
    });
    assert.ok(rt.statusReads > 0);
  });

  test('after an agent restart running pods are adopted, orphaned sandboxes removed', async () => {
    const rt = new FakeRuntime();
    const created = await client.create(PODS, NS, podManifest('adopted'));
    const uid = created.metadata.uid ?? '';
    const labels = { 'io.kubernetes.pod.uid': uid };
    const kept = rt.seed(
      { metadata: { name: 'adopted', namespace: NS, uid, attempt: 0 }, labels },
      {
        metadata: { name: 'c', attempt: 0 },
        image: { image: 'localhost/berth/busybox:1.35' },
        labels: { ...labels, 'io.kubernetes.container.name': 'c' },
        annotations: { 'berth.dev/spec-image': 'localhost/berth/busybox:1.35' },
      },
    );
    const orphan = rt.seed(
      {
        metadata: { name: 'old', namespace: NS, uid: 'gone-uid', attempt: 0 },
        labels: { 'io.kubernetes.pod.uid': 'gone-uid' },
      },
      {
        metadata: { name: 'c', attempt: 0 },
        image: { image: 'x' },
        labels: { 'io.kubernetes.pod.uid': 'gone-uid' },
      },
    );
    const k = start(rt, 'adopted');
    const p = await waitFor('adopted Running', async () => {
      const x = await getPod('adopted');
      return x.status?.phase === 'Running' && x;
    });
    assert.equal(p.status?.containerStatuses?.[0]?.containerID, `containerd://${kept.container ?? ''}`);
    await waitFor('the orphan removed', () => !rt.sandboxes.has(orphan.sandbox));
    assert.ok(rt.sandboxes.has(kept.sandbox));
    assert.deepEqual(
      rt.calls.filter((c) => /^(RunPodSandbox|CreateContainer)/.test(c)),
      [],
      'nothing made again for the adopted pod',
    );
    assert.ok(rt.calls.includes(`StopContainer c 0`), 'the orphan container was stopped');
    await k.stop();
  });

  test('graceful deletion stops with the grace period, removes the sandbox, then deletes the pod', async () => {
    const rt = new FakeRuntime();
    const k = start(rt, 'graceful');
    await client.create(PODS, NS, podManifest('graceful', { terminationGracePeriodSeconds: 7 }));
    await waitFor('graceful Running', async () => (await getPod('graceful')).status?.phase === 'Running');
    await client.delete(PODS, NS, 'graceful', {});
    await waitFor('the pod deleted by the kubelet', () => gone('graceful'));
    assert.ok(rt.calls.includes('StopContainer c 7'), rt.calls.join('\n'));
    assert.equal(rt.sandboxes.size, 0);
    assert.equal(rt.containers.size, 0);
    await k.stop();
  });

  test('a pod removed from the API without the kubelet (force deletion) is killed at once', async () => {
    const rt = new FakeRuntime();
    const k = start(rt, 'forced');
    await client.create(PODS, NS, podManifest('forced'));
    await waitFor('forced Running', async () => (await getPod('forced')).status?.phase === 'Running');
    await client.delete(PODS, NS, 'forced', { gracePeriodSeconds: 0 });
    await waitFor('the sandbox removed', () => rt.sandboxes.size === 0);
    assert.ok(
      rt.calls.some((c) => /^StopContainer c [0-2]$/.test(c)),
      rt.calls.join('\n'),
    );
    await k.stop();
  });

  test('restartPolicy Never: a failed container makes the pod Failed and stops its sandbox', async () => {
    const rt = new FakeRuntime();
    const k = start(rt, 'once');
    await client.create(PODS, NS, podManifest('once', { restartPolicy: 'Never' }));
    await waitFor('once Running', async () => (await getPod('once')).status?.phase === 'Running');
    rt.exit(rt.running('c')?.id ?? '', 9);
    const p = await waitFor('once Failed', async () => {
      const x = await getPod('once');
      return x.status?.phase === 'Failed' && x;
    });
    assert.equal(p.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 9);
    assert.equal(p.status?.containerStatuses?.[0]?.state?.terminated?.reason, 'Error');
    await waitFor('the sandbox stopped', () =>
      [...rt.sandboxes.values()].every((s) => s.state === 'SANDBOX_NOTREADY'),
    );
    assert.equal(rt.calls.filter((c) => c.startsWith('CreateContainer')).length, 1);
    await k.stop();
  });

  test('a dead sandbox is re-created; restart counts go on', async () => {
    const rt = new FakeRuntime();
    const k = start(rt, 'resandbox');
    await client.create(PODS, NS, podManifest('resandbox'));
    await waitFor('resandbox Running', async () => (await getPod('resandbox')).status?.phase === 'Running');
    const [first] = [...rt.sandboxes.values()];
    // The node restarted: the sandbox and its container are dead.
    if (first) first.state = 'SANDBOX_NOTREADY';
    rt.exit(rt.running('c')?.id ?? '', 255, 'Unknown');
    const p = await waitFor('running again in a new sandbox', async () => {
      const x = await getPod('resandbox');
      const s = x.status?.containerStatuses?.[0];
      return s?.state?.running && s.restartCount === 1 && x;
    });
    assert.equal(p.status?.phase, 'Running');
    assert.equal(rt.sandboxes.size, 1);
    assert.ok(!rt.sandboxes.has(first?.id ?? ''), 'the dead sandbox was removed');
    assert.equal([...rt.sandboxes.values()][0]?.metadata?.attempt, 1);
    assert.deepEqual(
      rt.calls.filter((c) => c.startsWith('CreateContainer')),
      ['CreateContainer c 0', 'CreateContainer c 1'],
    );
    await k.stop();
  });
});
