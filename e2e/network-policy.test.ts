/**
 * Issue 6, NetworkPolicy enforced by each node's agent (core/agent/netpol) on one 2-node Docker
 * cluster, driven by real kubectl 1.27 and 1.33. The database (app=database, httpd on 5432 and 80)
 * runs on the first node; clients run on either node, so both bridged same-node traffic and routed
 * cross-node traffic are covered. Every verdict is a client pod's exit code (`kubectl exec`/`logs` are
 * not there yet): a "reach" client exits 0 once it got the database's answer (retrying: a new pod's
 * IP reaches the other node's rules a moment after it starts, as upstream allows), a "refused" client
 * exits 0 after three attempts in a row failed; either writes what it saw to its termination message.
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
const name = uniqueClusterName('t-netpol');
const ns = 'np';
const trusted = 'np-trusted';
const untrusted = 'np-untrusted';
let c: DockerCluster;
let k27: KubectlRunner;
let k33: KubectlRunner;
let dbIP = '';
let clients = 0;

const B = BUSYBOX_IMAGE;

const database = (node: string): string => `
apiVersion: v1
kind: Pod
metadata: { name: database, namespace: ${ns}, labels: { app: database } }
spec:
  nodeName: ${node}
  terminationGracePeriodSeconds: 1
  containers:
  - name: db
    image: ${B}
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'httpd -p 80 -h /www; exec httpd -f -p 5432 -h /www']
    ports: [ { name: postgres, containerPort: 5432 }, { name: http, containerPort: 80 } ]
    readinessProbe: { tcpSocket: { port: 5432 }, periodSeconds: 1 }
`;

const namespaces = `
apiVersion: v1
kind: Namespace
metadata: { name: ${ns} }
---
apiVersion: v1
kind: Namespace
metadata: { name: ${trusted}, labels: { team: trusted } }
---
apiVersion: v1
kind: Namespace
metadata: { name: ${untrusted}, labels: { team: other } }
`;

/** The seed's policy: the database accepts 5432 only from app=webserver. */
const seedPolicy = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: postgres-netpolicy, namespace: ${ns} }
spec:
  podSelector: { matchLabels: { app: database } }
  ingress:
  - from: [ { podSelector: { matchLabels: { app: webserver } } } ]
    ports: [ { port: 5432 } ]
`;

const namespacePolicy = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: trusted-namespaces, namespace: ${ns} }
spec:
  podSelector: { matchLabels: { app: database } }
  ingress:
  - from: [ { namespaceSelector: { matchLabels: { team: trusted } } } ]
    ports: [ { port: postgres } ]
`;

/** Egress of role=locked pods: only to the database's named port (resolved on the destination). */
const egressPolicy = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: locked-egress, namespace: ${ns} }
spec:
  podSelector: { matchLabels: { role: locked } }
  policyTypes: [Egress]
  egress:
  - to: [ { podSelector: { matchLabels: { app: database } } } ]
    ports: [ { port: postgres } ]
`;

const fetch = (url: string): string => `timeout 3 wget -qO- ${url} 2>/dev/null | grep -q database`;

/** Shell that exits 0 when `url` answers (within ~30 tries). */
const reachScript = (url: string): string =>
  `for i in $(seq 30); do if ${fetch(url)}; then echo "reached ${url} after $i tries" > /dev/termination-log; exit 0; fi; sleep 1; done; ` +
  `echo "never reached ${url}" > /dev/termination-log; exit 1`;

/** Shell that exits 0 once three attempts in a row to `url` failed (within ~30 tries). */
const refusedScript = (url: string): string =>
  `f=0; for i in $(seq 30); do if ${fetch(url)}; then f=0; else f=$((f+1)); ` +
  `if [ $f -ge 3 ]; then echo "refused 3 times (try $i)" > /dev/termination-log; exit 0; fi; fi; sleep 1; done; ` +
  `echo "${url} kept answering" > /dev/termination-log; exit 1`;

/** Runs a client pod to completion and returns its phase and termination message. */
async function client(
  k: KubectlRunner,
  opts: { namespace: string; node: string; labels: Record<string, string>; script: string },
): Promise<{ phase: string; message: string }> {
  const podName = `client-${++clients}`;
  const labels = Object.entries(opts.labels)
    .map(([key, v]) => `${key}: ${v}`)
    .join(', ');
  const manifest = `
apiVersion: v1
kind: Pod
metadata: { name: ${podName}, namespace: ${opts.namespace}, labels: { ${labels} } }
spec:
  nodeName: ${opts.node}
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: ${B}
    imagePullPolicy: IfNotPresent
    command: [sh, -c, '${opts.script.replace(/'/g, "''")}']
`;
  await k.ok(['apply', '-f', '-'], { input: manifest });
  const p = await eventually(
    `${opts.namespace}/${podName} to finish`,
    async () => {
      const out = await k.run(['-n', opts.namespace, 'get', 'pod', podName, '-o', 'json']);
      if (out.code !== 0) return undefined;
      const pod = JSON.parse(out.stdout) as Pod;
      const phase = pod.status?.phase ?? '';
      return phase === 'Succeeded' || phase === 'Failed' ? pod : undefined;
    },
    120_000,
    500,
  );
  return {
    phase: p.status?.phase ?? '',
    message: `${opts.namespace}/${podName} on ${opts.node}: ${p.status?.containerStatuses?.[0]?.state?.terminated?.message ?? ''}`,
  };
}

/** Asserts that a client with these labels in `namespace` on `node` reaches / is refused by `url`. */
async function expect(
  k: KubectlRunner,
  verdict: 'reach' | 'refused',
  where: { namespace?: string; node: string; labels: Record<string, string> },
  url = `http://${dbIP}:5432/cgi-bin/hostname`,
): Promise<void> {
  const r = await client(k, {
    namespace: where.namespace ?? ns,
    node: where.node,
    labels: where.labels,
    script: verdict === 'reach' ? reachScript(url) : refusedScript(url),
  });
  assert.equal(r.phase, 'Succeeded', `${verdict} ${url}: ${r.message}`);
}

const databaseReady = async (k: KubectlRunner): Promise<boolean> => {
  const pod = JSON.parse(await k.ok(['-n', ns, 'get', 'pod', 'database', '-o', 'json'])) as Pod;
  return pod.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') ?? false;
};

describe('NetworkPolicy on Docker nodes', { skip }, () => {
  let dbNode = '';
  let otherNode = '';

  before(async () => {
    c = await startDockerCluster({ name, nodes: 2 });
    [dbNode = '', otherNode = ''] = c.nodes;
    k27 = kubectlRunner('1.27', c.kubeconfig, c.home);
    k33 = kubectlRunner('1.33', c.kubeconfig, c.home);
    await k33.ok(['apply', '-f', '-'], { input: namespaces });
    for (const n of [ns, trusted, untrusted])
      await eventually(
        `the default service account in ${n}`,
        async () => (await k33.run(['-n', n, 'get', 'sa', 'default'])).code === 0,
      );
    await k33.ok(['apply', '-f', '-'], { input: database(dbNode) });
    const pod = await eventually(
      'the database Ready with an IP',
      async () => {
        const p = JSON.parse(await k33.ok(['-n', ns, 'get', 'pod', 'database', '-o', 'json'])) as Pod;
        return (await databaseReady(k33)) && p.status?.podIP ? p : undefined;
      },
      180_000,
      500,
    );
    dbIP = pod.status?.podIP ?? '';
  });

  after(async () => {
    if (!c) return;
    await c.destroy();
    const r = spawnSync('docker', ['ps', '-aq', '--filter', `label=dev.berth.cluster=${name}`], {
      encoding: 'utf8',
    });
    assert.equal(r.stdout.trim(), '', 'containers left behind');
  });

  it('without a policy every pod reaches the database (default allow)', async () => {
    await expect(k33, 'reach', { node: otherNode, labels: { app: 'other' } });
  });

  it("the seed's policy: 5432 only from app=webserver; deleting it restores access (kubectl 1.27)", async () => {
    await k27.ok(['apply', '-f', '-'], { input: seedPolicy });
    const table = await k27.ok(['-n', ns, 'get', 'networkpolicy']);
    assert.match(table, /postgres-netpolicy\s+app=database/);
    // Across nodes (routed) and on the database's node (bridged on cni0).
    await expect(k27, 'reach', { node: otherNode, labels: { app: 'webserver' } });
    await expect(k27, 'reach', { node: dbNode, labels: { app: 'webserver' } });
    await expect(k27, 'refused', { node: otherNode, labels: { app: 'other' } });
    await expect(k27, 'refused', { node: dbNode, labels: { app: 'other' } });
    // Only port 5432 is opened: even a webserver is refused on port 80.
    await expect(
      k27,
      'refused',
      { node: otherNode, labels: { app: 'webserver' } },
      `http://${dbIP}:80/cgi-bin/hostname`,
    );
    // The kubelet's probes come from the node itself, which policies never block.
    assert.ok(await databaseReady(k27), 'the database stays Ready (its tcpSocket probe still connects)');
    await k27.ok(['-n', ns, 'delete', 'networkpolicy', 'postgres-netpolicy']);
    await expect(k27, 'reach', { node: otherNode, labels: { app: 'other' } });
  });

  it('a namespaceSelector policy admits only pods of the selected namespaces (kubectl 1.33)', async () => {
    await k33.ok(['apply', '-f', '-'], { input: namespacePolicy });
    await expect(k33, 'reach', { namespace: trusted, node: otherNode, labels: { app: 'any' } });
    await expect(k33, 'refused', { namespace: untrusted, node: otherNode, labels: { app: 'any' } });
    // The policy's own namespace is not selected either (team label absent).
    await expect(k33, 'refused', { node: dbNode, labels: { app: 'webserver' } });
    await k33.ok(['-n', ns, 'delete', 'networkpolicy', 'trusted-namespaces']);
    await expect(k33, 'reach', { namespace: untrusted, node: otherNode, labels: { app: 'any' } });
  });

  it('an egress policy lets a pod reach only the named port of the database', async () => {
    await k33.ok(['apply', '-f', '-'], { input: egressPolicy });
    await expect(k33, 'reach', { node: otherNode, labels: { role: 'locked' } });
    await expect(
      k33,
      'refused',
      { node: otherNode, labels: { role: 'locked' } },
      `http://${dbIP}:80/cgi-bin/hostname`,
    );
    // Pods the policy does not select are not limited.
    await expect(
      k33,
      'reach',
      { node: otherNode, labels: { role: 'free' } },
      `http://${dbIP}:80/cgi-bin/hostname`,
    );
    await k33.ok(['-n', ns, 'delete', 'networkpolicy', 'locked-egress']);
  });
});
