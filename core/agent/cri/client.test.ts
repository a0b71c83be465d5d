/**
 * The CRI client against containerd in a real node container: the test bundles a snippet that uses
 * CriClient and runs it with the node's Node.js 18 (as the agent runs). It checks Version and Status,
 * images (present, absent, a pull refused on loopback), a sandbox with a pod IP from the CNI bridge,
 * a busybox container's lifecycle, ExecSync, list filters and the gRPC error codes.
 * Without Docker the test FAILS under CI=true and skips elsewhere.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import { DockerNodeDriver } from '../../nodes/docker/driver.ts';
import { BUSYBOX_IMAGE, ensureNodeImages } from '../../nodes/docker/images.ts';
import { checkDockerPrerequisites, formatPrerequisites } from '../../nodes/docker/prereqs.ts';
import { cniConfList } from '../network/cni-config.ts';
import { runInNode } from './node-script.ts';

const docker = new Docker();
const prereqs = await checkDockerPrerequisites({ docker });
const missing = prereqs.ok ? undefined : `Docker prerequisites missing:\n${formatPrerequisites(prereqs)}`;
const skip = missing && process.env.CI !== 'true' ? missing : false;
const log = (s: string): void => console.log(`  [cri-client] ${s}`);

const SNIPPET = String.raw`
import { CriClient, CriError } from './client.ts';
const [image, podCIDR] = process.argv.slice(2);
const cri = new CriClient({ timeoutMs: 30000 });
const out: Record<string, unknown> = {};
const t = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
  const t0 = Date.now(); const v = await f(); (out.ms ??= {} as Record<string, number>)[name] = Date.now() - t0; return v;
};
const code = async (f: () => Promise<unknown>) => {
  try { await f(); return 'ok'; } catch (e) { return e instanceof CriError ? e.code + ' ' + e.message : 'other ' + String(e); }
};
out.version = await cri.version();
out.status = (await cri.status()).status?.conditions.map((c) => c.type + '=' + c.status);
out.busybox = (await cri.imageStatus({ image }))?.repoTags;
out.absent = (await cri.imageStatus({ image: 'localhost/berth/absent:0' })) ?? null;
out.pullRefused = await code(() => cri.pullImage({ image: '127.0.0.1:1/berth/none:1' }));
const uid = 'uid-' + process.pid;
const sandboxConfig = {
  metadata: { name: 'probe', namespace: 'default', uid, attempt: 0 },
  hostname: 'probe-host',
  logDirectory: '/var/log/pods/default_probe_' + uid,
  dnsConfig: { servers: ['10.96.0.10'], searches: ['default.svc.cluster.local'], options: ['ndots:5'] },
  labels: { 'io.kubernetes.pod.uid': uid, 'berth.test': 'cri' },
  annotations: { note: 'hello' },
  linux: { securityContext: { namespaceOptions: { network: 'POD' as const, pid: 'CONTAINER' as const, ipc: 'POD' as const } } },
};
const sb = await t('runPodSandbox', () => cri.runPodSandbox(sandboxConfig));
const sst = await cri.podSandboxStatus(sb);
out.sandbox = { state: sst.status?.state, ip: sst.status?.network?.ip, labels: sst.status?.labels, annotations: sst.status?.annotations, createdAtPositive: (sst.status?.createdAt ?? 0) > 1e18 };
out.listedByLabel = (await cri.listPodSandbox({ labelSelector: { 'io.kubernetes.pod.uid': uid } })).map((s) => s.id === sb);
const cid = await t('createContainer', () => cri.createContainer(sb, {
  metadata: { name: 'main', attempt: 0 },
  image: { image },
  command: ['sh', '-c'],
  args: ['echo hello-from-cri; trap "exit 143" TERM; while true; do sleep 0.2; done'],
  envs: [{ key: 'GREETING', value: 'hi there' }],
  workingDir: '/www',
  labels: { 'io.kubernetes.container.name': 'main' },
  logPath: 'main/0.log',
  linux: { resources: { memoryLimitInBytes: 64 * 1024 * 1024, cpuShares: 256 } },
}, sandboxConfig));
await t('startContainer', () => cri.startContainer(cid));
const running = await cri.containerStatus(cid);
out.running = { state: running.status?.state, startedAtPositive: (running.status?.startedAt ?? 0) > 0, logPath: running.status?.logPath, name: running.status?.metadata?.name };
const ex = await t('execSync', () => cri.execSync(cid, ['sh', '-c', 'echo "$GREETING from $(pwd)"; echo err >&2; exit 3'], 10));
out.exec = { stdout: ex.stdout.toString(), stderr: ex.stderr.toString(), exitCode: ex.exitCode };
out.listRunning = (await cri.listContainers({ podSandboxId: sb, state: { state: 'CONTAINER_RUNNING' } })).map((c) => c.id === cid);
await t('stopContainer', () => cri.stopContainer(cid, 5));
const exited = await cri.containerStatus(cid);
out.exited = { state: exited.status?.state, exitCode: exited.status?.exitCode, reason: exited.status?.reason };
out.listRunningAfter = (await cri.listContainers({ podSandboxId: sb, state: { state: 'CONTAINER_RUNNING' } })).length;
await cri.removeContainer(cid);
out.statusGone = await code(() => cri.containerStatus(cid));
await t('stopPodSandbox', () => cri.stopPodSandbox(sb));
await cri.removePodSandbox(sb);
await cri.removePodSandbox(sb);
out.sandboxGone = (await cri.listPodSandbox({ id: sb })).length;
cri.close();
console.log(JSON.stringify(out));
`;

describe('CRI client against containerd in a node', { skip }, () => {
  const cluster = `t-cri-${randomBytes(3).toString('hex')}`;
  const driver = new DockerNodeDriver({ cluster, docker, progress: log });
  const node = `${cluster}-n1`;

  before(async () => {
    if (missing) assert.fail(`${missing}\n(CI=true: the CRI client must be testable here)`);
    await ensureNodeImages(docker, { progress: log });
    await driver.create({ name: node });
    const w = await driver.exec(
      node,
      ['sh', '-c', 'cat > /etc/cni/net.d/10-berth.conflist'],
      JSON.stringify(cniConfList('10.244.7.0/24')),
    );
    assert.equal(w.exitCode, 0, w.stderr);
    await driver.loadImage(node, BUSYBOX_IMAGE);
  });

  after(async () => {
    await driver.destroy();
  });

  test('every RPC of a pod lifecycle, with typed results and gRPC codes', async () => {
    const r = await runInNode(driver, node, SNIPPET, [BUSYBOX_IMAGE, '10.244.7.0/24']);
    assert.equal(r.exitCode, 0, `snippet failed: ${r.stderr}`);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    log(`timings ${JSON.stringify(out.ms)}`);
    const version = out.version as Record<string, string>;
    assert.equal(version.runtimeName, 'containerd');
    assert.equal(version.runtimeApiVersion, 'v1');
    assert.match(version.runtimeVersion ?? '', /^\d+\.\d+/);
    assert.deepEqual(out.status, ['RuntimeReady=true', 'NetworkReady=true']);
    assert.ok((out.busybox as string[]).includes(BUSYBOX_IMAGE));
    assert.equal(out.absent, null);
    // A pull from a closed loopback port fails at once with a gRPC error (never leaves the host).
    assert.match(out.pullRefused as string, /^\d+ CRI PullImage: \w+: .*127\.0\.0\.1:1/);
    const sandbox = out.sandbox as {
      state: string;
      ip: string;
      labels: Record<string, string>;
      annotations: Record<string, string>;
      createdAtPositive: boolean;
    };
    assert.equal(sandbox.state, 'SANDBOX_READY');
    assert.match(sandbox.ip, /^10\.244\.7\.\d+$/);
    assert.equal(sandbox.labels['berth.test'], 'cri');
    assert.equal(sandbox.annotations.note, 'hello');
    assert.ok(sandbox.createdAtPositive, 'int64 createdAt (ns) decoded as a number');
    assert.deepEqual(out.listedByLabel, [true]);
    assert.deepEqual(out.running, {
      state: 'CONTAINER_RUNNING',
      startedAtPositive: true,
      logPath: `/var/log/pods/default_probe_${/uid-\d+/.exec(sandbox.labels['io.kubernetes.pod.uid'] ?? '')?.[0]}/main/0.log`,
      name: 'main',
    });
    assert.deepEqual(out.exec, { stdout: 'hi there from /www\n', stderr: 'err\n', exitCode: 3 });
    assert.deepEqual(out.listRunning, [true]);
    assert.deepEqual(out.exited, { state: 'CONTAINER_EXITED', exitCode: 143, reason: 'Error' });
    assert.equal(out.listRunningAfter, 0);
    assert.match(out.statusGone as string, /^5 CRI ContainerStatus: NOT_FOUND/);
    assert.equal(out.sandboxGone, 0);
  });
});
