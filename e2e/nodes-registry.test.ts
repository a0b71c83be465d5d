/**
 * Issue "Real worker nodes": registry pulls with imagePullSecrets on a real Docker node, driven by real
 * kubectl 1.27 and 1.33. A test registry (harness/registry.ts: Basic auth, plain HTTP) serves the
 * busybox test image on the cluster bridge's gateway; each node's containerd gets a hosts.toml for it
 * under /etc/containerd/certs.d (the node image's registry config_path). No secret or a wrong password
 * gives ErrImagePull then ImagePullBackOff; a docker-registry secret, on the pod or on its
 * ServiceAccount, makes the pull work; imagePullPolicy Always pulls again. One cluster for the file;
 * everything is removed by label and the registry is closed at the end.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import Docker from 'dockerode';
import type { Pod } from 'kubernetes-types/core/v1';
import { kubectlRunner, type KubectlRunner } from './harness/kubectl.ts';
import { eventually } from './harness/wait.ts';
import {
  dockerSuiteSkip,
  startDockerCluster,
  uniqueClusterName,
  type DockerCluster,
} from './harness/docker-cluster.ts';
import { imageFromDocker, startRegistry, type TestRegistry } from './harness/registry.ts';
import { DockerNodeDriver } from '../core/nodes/docker/driver.ts';
import { BUSYBOX_IMAGE } from '../core/nodes/docker/images.ts';

const skip = await dockerSuiteSkip();
const name = uniqueClusterName('t-reg');
const ns = 'registry';
const [USER, PASSWORD] = ['puller', 'pa55-word'];
let c: DockerCluster;
let reg: TestRegistry;
let k27: KubectlRunner;
let k33: KubectlRunner;

const docker = (args: string[]): string => {
  const r = spawnSync('docker', args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

const image = (): string => `${reg.host}/berth/busybox:1.35`;

const podYaml = (pod: string, opts: { secret?: string; policy?: string } = {}): string => `
apiVersion: v1
kind: Pod
metadata: { name: ${pod}, namespace: ${ns}, labels: { suite: registry } }
spec:
  terminationGracePeriodSeconds: 1
  ${opts.secret ? `imagePullSecrets: [ { name: ${opts.secret} } ]` : ''}
  containers:
  - name: c
    image: ${image()}
    imagePullPolicy: ${opts.policy ?? 'IfNotPresent'}
    command: [sleep, '3600']
`;

const getPod = async (k: KubectlRunner, pod: string): Promise<Pod> =>
  JSON.parse(await k.ok(['-n', ns, 'get', 'pod', pod, '-o', 'json'])) as Pod;

/** Polls the pod's waiting reasons until ErrImagePull then ImagePullBackOff; returns what it saw. */
async function pullFailures(
  k: KubectlRunner,
  pod: string,
): Promise<{ reasons: string[]; messages: string[] }> {
  const reasons: string[] = [];
  const messages: string[] = [];
  await eventually(
    `${pod}: ErrImagePull, then ImagePullBackOff`,
    async () => {
      const w = (await getPod(k, pod)).status?.containerStatuses?.[0]?.state?.waiting;
      if (w?.reason && reasons.at(-1) !== w.reason) reasons.push(w.reason);
      if (w?.message) messages.push(w.message);
      const err = reasons.indexOf('ErrImagePull');
      return err >= 0 && reasons.indexOf('ImagePullBackOff', err) > err;
    },
    60_000,
    300,
  );
  return { reasons, messages };
}

const running = (k: KubectlRunner, pod: string): Promise<Pod> =>
  eventually(
    `${pod} Running`,
    async () => {
      const p = await getPod(k, pod);
      return p.status?.phase === 'Running' && p;
    },
    60_000,
  );

/** `kubectl create secret docker-registry` for the test registry, labelled for cleanup. */
async function createRegistrySecret(k: KubectlRunner, secret: string, password: string): Promise<void> {
  await k.ok([
    ...['-n', ns, 'create', 'secret', 'docker-registry', secret, `--docker-server=${reg.host}`],
    ...[`--docker-username=${USER}`, `--docker-password=${password}`],
  ]);
  await k.ok(['-n', ns, 'label', 'secret', secret, 'suite=registry']);
}

/** Authorized manifest and blob requests the registry saw from index `from` on. */
const authorizedSince = (from: number): { manifests: number; blobs: number } => {
  const seen = reg.requests.slice(from).filter((r) => r.user === USER && r.status === 200);
  return {
    manifests: seen.filter((r) => r.kind === 'manifest').length,
    blobs: seen.filter((r) => r.kind === 'blob').length,
  };
};

describe('registry pulls with imagePullSecrets (real Docker node, kubectl 1.27 + 1.33)', { skip }, () => {
  before(async () => {
    c = await startDockerCluster({ name, nodes: 1 });
    k27 = kubectlRunner('1.27', c.kubeconfig, c.home);
    k33 = kubectlRunner('1.33', c.kubeconfig, c.home);
    const gateway = await new DockerNodeDriver({ cluster: name }).gatewayIP();
    // A label of its own: the node has the busybox image (berth image load), yet must fetch this
    // config blob. (containerd skips layers whose unpacked snapshots exist.)
    const img = await imageFromDocker(new Docker(), BUSYBOX_IMAGE, {
      labels: { 'dev.berth.test-registry': name },
    });
    reg = await startRegistry({
      address: gateway,
      users: { [USER]: PASSWORD },
      images: { 'berth/busybox:1.35': img },
    });
    // Plain HTTP to a registry that is not localhost: a hosts.toml in containerd's config_path, as
    // kind documents for its local registry. containerd reads it on every pull (no restart).
    const hosts = `server = "http://${reg.host}"\n\n[host."http://${reg.host}"]\n  capabilities = ["pull", "resolve"]\n`;
    for (const node of c.nodes)
      docker([
        'exec',
        `berth-${name}.${node}`,
        'sh',
        '-c',
        `mkdir -p /etc/containerd/certs.d/${reg.host} && printf '%s' '${hosts}' > /etc/containerd/certs.d/${reg.host}/hosts.toml`,
      ]);
    await k33.ok(['create', 'namespace', ns]);
    await eventually(
      'the default service account',
      async () => (await k33.run(['-n', ns, 'get', 'sa', 'default'])).code === 0,
    );
  });

  after(async () => {
    if (c) {
      await k33?.run(['-n', ns, 'delete', 'pods,secrets', '-l', 'suite=registry', '--wait=false']);
      await c.destroy();
      const left = docker(['ps', '-aq', '--filter', `label=dev.berth.cluster=${name}`]).trim();
      assert.equal(left, '', 'containers left behind');
      const nets = docker(['network', 'ls', '-q', '--filter', `label=dev.berth.cluster=${name}`]).trim();
      assert.equal(nets, '', 'networks left behind');
    }
    await reg?.close();
  });

  it('without a secret: ErrImagePull, then ImagePullBackOff, showing the 401', async () => {
    const from = reg.requests.length;
    await k27.ok(['apply', '-f', '-'], { input: podYaml('nosecret') });
    const { messages } = await pullFailures(k27, 'nosecret');
    assert.ok(
      messages.some((m) => /401|unauthorized/i.test(m)),
      `the registry's refusal in the message: ${messages.join(' | ')}`,
    );
    const asked = reg.requests.slice(from);
    assert.ok(
      asked.some((r) => r.kind === 'manifest' && r.status === 401),
      'the node asked the registry and was refused',
    );
    assert.ok(!asked.some((r) => r.user), 'no credentials were sent');
    const events = await k33.ok([
      '-n',
      ns,
      'get',
      'events',
      '--field-selector',
      'involvedObject.name=nosecret',
    ]);
    assert.ok(events.includes(`Failed to pull image "${image()}"`), events);
    assert.match(events, /Back-off pulling image/);
  });

  it('a wrong password: ErrImagePull', async () => {
    await createRegistrySecret(k33, 'badcred', 'not-the-password');
    const from = reg.requests.length;
    await k33.ok(['apply', '-f', '-'], { input: podYaml('badpass', { secret: 'badcred' }) });
    const { messages } = await pullFailures(k33, 'badpass');
    assert.ok(
      messages.some((m) => /401|unauthorized|authoriz/i.test(m)),
      messages.join(' | '),
    );
    const asked = reg.requests.slice(from);
    assert.ok(asked.some((r) => r.kind === 'manifest' && r.status === 401));
    assert.ok(!asked.some((r) => r.user), 'nothing was served with the wrong password');
  });

  it('kubectl create secret docker-registry + imagePullSecrets: the pod runs', async () => {
    await createRegistrySecret(k27, 'regcred', PASSWORD);
    const from = reg.requests.length;
    await k27.ok(['apply', '-f', '-'], { input: podYaml('withsecret', { secret: 'regcred' }) });
    const p = await running(k27, 'withsecret');
    const seen = authorizedSince(from);
    assert.ok(seen.manifests >= 1 && seen.blobs >= 1, `authorized fetches: ${JSON.stringify(seen)}`);
    assert.equal(p.status?.containerStatuses?.[0]?.image, image());
    assert.match(p.status?.containerStatuses?.[0]?.imageID ?? '', /sha256:[0-9a-f]{64}/);
  });

  it("the default ServiceAccount's imagePullSecrets are injected into a pod and used", async () => {
    await k33.ok([
      '-n',
      ns,
      'patch',
      'serviceaccount',
      'default',
      '-p',
      JSON.stringify({ imagePullSecrets: [{ name: 'regcred' }] }),
    ]);
    const from = reg.requests.length;
    // Always: the image is on the node already, so only a real pull with credentials can succeed.
    await k33.ok(['apply', '-f', '-'], { input: podYaml('fromsa', { policy: 'Always' }) });
    const p = await running(k33, 'fromsa');
    assert.deepEqual(p.spec?.imagePullSecrets, [{ name: 'regcred' }]);
    assert.ok(authorizedSince(from).manifests >= 1, 'pulled with the account secret');
  });

  it('imagePullPolicy Always pulls again for a second pod', async () => {
    const from = reg.requests.length;
    await k27.ok(['apply', '-f', '-'], { input: podYaml('always', { secret: 'regcred', policy: 'Always' }) });
    await running(k27, 'always');
    const seen = authorizedSince(from);
    assert.ok(seen.manifests >= 1, `a manifest request for the second pod: ${JSON.stringify(seen)}`);
    // The layers are on the node already: containerd fetches only the manifest (and what it lacks).
    const events = await k27.ok([
      '-n',
      ns,
      'get',
      'events',
      '--field-selector',
      'involvedObject.name=always',
    ]);
    assert.match(events, /Successfully pulled image/);
  });
});
