/**
 * Issue 6, Services on real Docker nodes (the agent's service proxy, core/agent/proxy, and the host-side
 * LoadBalancer, core/cluster/load-balancer.ts), driven by real kubectl 1.27 and 1.33 on one 2-node
 * cluster: 30 requests to a ClusterIP service of 3 HTTP pods reach at least 2 pods; sessionAffinity
 * ClientIP keeps one; two named target ports both answer; a selectorless service with hand-written
 * Endpoints balances; a pod reaches itself through its own service (hairpin); NodePort answers on
 * every node's address; LoadBalancer answers on 127.0.0.1 from the host. Every verdict inside the
 * cluster is a client pod's exit code (`kubectl exec`/`logs` are not there yet); what the client saw
 * is in its termination message for the failure text.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { createServer } from 'node:net';
import type { Pod, Service, Node } from 'kubernetes-types/core/v1';
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
const name = uniqueClusterName('t-svc');
const ns = 'svc';
let c: DockerCluster;
let k27: KubectlRunner;
let k33: KubectlRunner;
let lbPort = 0;

const B = BUSYBOX_IMAGE;

/** A free TCP port on the host's loopback (for the LoadBalancer service port). */
const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });

/** GET from the test process; resolves with the body or undefined on any failure. */
const httpGet = (host: string, port: number, path: string): Promise<string | undefined> =>
  new Promise((resolve) => {
    const req = request({ host, port, path, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(res.statusCode === 200 ? body.trim() : undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });

const manifests = (port: number): string => `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: ${ns} }
spec:
  replicas: 3
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: http
        image: ${B}
        imagePullPolicy: IfNotPresent
        command: [httpd, -f, -p, '80', -h, /www]
        ports: [ { name: http, containerPort: 80 } ]
      - name: alt
        image: ${B}
        imagePullPolicy: IfNotPresent
        command: [httpd, -f, -p, '8080', -h, /www]
        ports: [ { name: alt, containerPort: 8080 } ]
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: ${ns} }
spec:
  selector: { app: web }
  ports:
  - { name: http, port: 80, targetPort: http }
  - { name: alt, port: 8081, targetPort: alt }
---
apiVersion: v1
kind: Service
metadata: { name: sticky, namespace: ${ns} }
spec:
  selector: { app: web }
  sessionAffinity: ClientIP
  sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } }
  ports: [ { name: http, port: 80, targetPort: http } ]
---
apiVersion: v1
kind: Service
metadata: { name: web-np, namespace: ${ns} }
spec:
  type: NodePort
  selector: { app: web }
  ports: [ { name: http, port: 80, targetPort: http } ]
---
apiVersion: v1
kind: Service
metadata: { name: web-lb, namespace: ${ns} }
spec:
  type: LoadBalancer
  selector: { app: web }
  ports: [ { name: http, port: ${port}, targetPort: http } ]
---
apiVersion: v1
kind: Service
metadata: { name: manual, namespace: ${ns} }
spec:
  ports: [ { name: http, port: 80, targetPort: 80 } ]
---
apiVersion: v1
kind: Service
metadata: { name: solo, namespace: ${ns} }
spec:
  selector: { app: solo }
  ports: [ { port: 80, targetPort: 80 } ]
`;

/** A run-once pod whose shell script's exit code is the verdict. */
function scriptPod(podName: string, script: string, labels = 'role: client'): string {
  return `
apiVersion: v1
kind: Pod
metadata: { name: ${podName}, namespace: ${ns}, labels: { ${labels} } }
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: ${B}
    imagePullPolicy: IfNotPresent
    command: [sh, -c, '${script.replace(/'/g, "''")}']
`;
}

/**
 * A client pod that GETs `url` 30 times and exits 0 when the number of distinct answers `test`s
 * true (`-ge 2`, `-eq 1`) and none failed; it prints what it saw to its termination message.
 */
function clientPod(podName: string, url: string, test: string): string {
  const script = [
    `for i in $(seq 30); do timeout 5 wget -qO- ${url} || echo FAIL; done > /tmp/out`,
    'n=$(grep -v FAIL /tmp/out | sort -u | wc -l); f=$(grep -c FAIL /tmp/out)',
    'echo "distinct=$n failed=$f $(sort /tmp/out | uniq -c | tr -s " \\n" " ")" > /dev/termination-log',
    `[ "$f" -eq 0 ] && [ "$n" ${test} ]`,
  ].join('; ');
  return scriptPod(podName, script);
}

const getJSON = async <T>(k: KubectlRunner, args: string[]): Promise<T> =>
  JSON.parse(await k.ok(['-n', ns, 'get', ...args, '-o', 'json'])) as T;

/** Runs a client pod to completion; returns its phase and termination message. */
async function runClient(
  k: KubectlRunner,
  manifest: string,
  podName: string,
): Promise<{ phase: string; message: string }> {
  await k.ok(['apply', '-f', '-'], { input: manifest });
  const p = await eventually(
    `${podName} to finish`,
    async () => {
      const pod = await getJSON<Pod>(k, ['pod', podName]);
      const phase = pod.status?.phase ?? '';
      return phase === 'Succeeded' || phase === 'Failed' ? pod : undefined;
    },
    120_000,
    500,
  );
  const message = p.status?.containerStatuses?.[0]?.state?.terminated?.message ?? '';
  return { phase: p.status?.phase ?? '', message };
}

const clusterIP = async (k: KubectlRunner, svc: string): Promise<string> =>
  (await getJSON<Service>(k, ['service', svc])).spec?.clusterIP ?? '';

describe('services on Docker nodes', { skip }, () => {
  before(async () => {
    c = await startDockerCluster({ name, nodes: 2 });
    k27 = kubectlRunner('1.27', c.kubeconfig, c.home);
    k33 = kubectlRunner('1.33', c.kubeconfig, c.home);
    await k33.ok(['create', 'namespace', ns]);
    await eventually(
      'the default service account',
      async () => (await k33.run(['-n', ns, 'get', 'sa', 'default'])).code === 0,
    );
    lbPort = await freePort();
    await k27.ok(['apply', '-f', '-'], { input: manifests(lbPort) });
    await eventually(
      '3 web pods Ready',
      async () => {
        const pods = (await getJSON<{ items: Pod[] }>(k33, ['pods', '-l', 'app=web'])).items;
        return (
          pods.filter((p) => p.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'))
            .length === 3
        );
      },
      180_000,
      500,
    );
  });

  after(async () => {
    if (!c) return;
    await c.destroy();
    const r = spawnSync('docker', ['ps', '-aq', '--filter', `label=dev.berth.cluster=${name}`], {
      encoding: 'utf8',
    });
    assert.equal(r.stdout.trim(), '', 'containers left behind');
  });

  it('30 requests to a ClusterIP service of 3 pods reach at least 2 of them (kubectl 1.33)', async () => {
    const ip = await clusterIP(k33, 'web');
    const r = await runClient(k33, clientPod('spread', `http://${ip}/cgi-bin/hostname`, '-ge 2'), 'spread');
    assert.equal(r.phase, 'Succeeded', r.message);
    assert.match(r.message, /distinct=[23] failed=0/);
  });

  it('sessionAffinity ClientIP sends all 30 requests to one pod (kubectl 1.27)', async () => {
    const ip = await clusterIP(k27, 'sticky');
    const r = await runClient(k27, clientPod('sticky', `http://${ip}/cgi-bin/hostname`, '-eq 1'), 'sticky');
    assert.equal(r.phase, 'Succeeded', r.message);
  });

  it('the second named port (alt → 8080 by name) answers too', async () => {
    const ip = await clusterIP(k33, 'web');
    const r = await runClient(k33, clientPod('alt', `http://${ip}:8081/cgi-bin/hostname`, '-ge 2'), 'alt');
    assert.equal(r.phase, 'Succeeded', r.message);
  });

  it('a selectorless service with hand-written Endpoints balances over them (kubectl 1.27)', async () => {
    const pods = (await getJSON<{ items: Pod[] }>(k27, ['pods', '-l', 'app=web'])).items;
    const ips = pods.map((p) => p.status?.podIP).filter((x): x is string => !!x);
    assert.equal(ips.length, 3);
    const endpoints = `
apiVersion: v1
kind: Endpoints
metadata: { name: manual, namespace: ${ns} }
subsets:
- addresses: [${ips.map((ip) => `{ ip: ${ip} }`).join(', ')}]
  ports: [ { name: http, port: 80 } ]
`;
    await k27.ok(['apply', '-f', '-'], { input: endpoints });
    const ip = await clusterIP(k27, 'manual');
    const r = await runClient(k27, clientPod('manual', `http://${ip}/cgi-bin/hostname`, '-ge 2'), 'manual');
    assert.equal(r.phase, 'Succeeded', r.message);
  });

  it('a pod reaches itself through its own service (hairpin)', async () => {
    const ip = await clusterIP(k33, 'solo');
    const script =
      `httpd -p 80 -h /www; for i in $(seq 40); do ` +
      `if timeout 3 wget -qO- http://${ip}/cgi-bin/hostname | grep -qx "$(hostname)"; then exit 0; fi; sleep 0.5; done; ` +
      `echo "never reached itself through ${ip}" > /dev/termination-log; exit 1`;
    const r = await runClient(k33, scriptPod('solo', script, 'app: solo'), 'solo');
    assert.equal(r.phase, 'Succeeded', r.message);
  });

  it('pods reach the API server through the kubernetes service (10.96.0.1:443, hand-written Endpoints)', async () => {
    const script =
      'for i in $(seq 20); do if printf "GET / HTTP/1.0\\r\\n\\r\\n" | timeout 3 nc 10.96.0.1 443 > /dev/null; then exit 0; fi; sleep 0.5; done; ' +
      'echo "10.96.0.1:443 never answered" > /dev/termination-log; exit 1';
    const r = await runClient(k27, scriptPod('apiserver-client', script), 'apiserver-client');
    assert.equal(r.phase, 'Succeeded', r.message);
  });

  it('NodePort answers on every node address, from the host', async () => {
    const svc = await getJSON<Service>(k33, ['service', 'web-np']);
    const nodePort = svc.spec?.ports?.[0]?.nodePort ?? 0;
    assert.ok(nodePort >= 30000 && nodePort <= 32767, `nodePort ${nodePort}`);
    const nodes = (await getJSON<{ items: Node[] }>(k33, ['nodes'])).items;
    const ips = nodes.map((n) => n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '');
    assert.equal(ips.length, 2);
    for (const ip of ips) {
      const seen = new Set<string>();
      for (let i = 0; i < 12; i++) {
        const body = await httpGet(ip, nodePort, '/cgi-bin/hostname');
        assert.ok(body?.startsWith('web-'), `${ip}:${nodePort} answered ${body}`);
        seen.add(body ?? '');
      }
      assert.ok(seen.size >= 2, `${ip}:${nodePort} reached only ${[...seen].join(', ')}`);
    }
  });

  it('LoadBalancer: ingress 127.0.0.1, reachable from the host on 127.0.0.1:<port>', async () => {
    const svc = await eventually('web-lb to get its ingress address', async () => {
      const s = await getJSON<Service>(k27, ['service', 'web-lb']);
      return s.status?.loadBalancer?.ingress?.length ? s : undefined;
    });
    assert.equal(svc.status?.loadBalancer?.ingress?.[0]?.ip, '127.0.0.1');
    const out = await k33.ok(['-n', ns, 'get', 'service', 'web-lb']);
    assert.match(out, /127\.0\.0\.1/);
    const body = await eventually('an answer on 127.0.0.1', () =>
      httpGet('127.0.0.1', lbPort, '/cgi-bin/hostname'),
    );
    assert.match(body, /^web-/);
    // Deleting the service closes the listener.
    await k33.ok(['-n', ns, 'delete', 'service', 'web-lb']);
    await eventually('the listener to close', async () => !(await httpGet('127.0.0.1', lbPort, '/')));
  });
});
