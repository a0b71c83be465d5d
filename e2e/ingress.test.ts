/**
 * Issue 6, Ingress on real Docker nodes (core/ingress): the control-plane process serves HTTP and HTTPS
 * on loopback ports set in cluster.json (ingressHTTPPort/ingressHTTPSPort, free ports picked here) and
 * reaches the pods through their node agents' port-forward tunnel. One 2-node cluster, kubectl 1.27 and
 * 1.33: an Ingress with two hosts routes by Host header to two Services (busybox httpd answering
 * /cgi-bin/hostname with the pod's name), path rules (Exact beats Prefix, longest prefix), a default
 * backend, and TLS with a Secret's certificate verified by the client against that certificate's CA.
 * Requests come from the test process to 127.0.0.1:<port> with Host headers (and SNI for TLS).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import type { Pod } from 'kubernetes-types/core/v1';
import type { Ingress, IngressClass } from 'kubernetes-types/networking/v1';
import { kubectlRunner, type KubectlRunner } from './harness/kubectl.ts';
import { eventually } from './harness/wait.ts';
import {
  dockerSuiteSkip,
  startDockerCluster,
  uniqueClusterName,
  type DockerCluster,
} from './harness/docker-cluster.ts';
import { BUSYBOX_IMAGE } from '../core/nodes/docker/images.ts';
import { createCa } from '../core/pki/ca.ts';
import { issueServingCert } from '../core/pki/certs.ts';

const skip = await dockerSuiteSkip();
const name = uniqueClusterName('t-ing');
const ns = 'ing';
let c: DockerCluster;
let k27: KubectlRunner;
let k33: KubectlRunner;
let httpPort = 0;
let httpsPort = 0;
let caPem = '';
let certDir = '';

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });

interface Answer {
  status: number;
  body: string;
  subject?: string;
}

/** One request from the host to the Ingress port with a Host header (and SNI + CA for HTTPS). */
function ask(host: string, path: string, tls?: { ca: string }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const opts = {
      host: '127.0.0.1',
      port: tls ? httpsPort : httpPort,
      path,
      headers: { host },
      timeout: 15_000,
      ...(tls ? { servername: host, ca: tls.ca } : {}),
    };
    const req = (tls ? httpsRequest : request)(opts, (res) => {
      const subject = tls ? ((res.socket as TLSSocket).getPeerX509Certificate()?.subject ?? '') : undefined;
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: body.trim(), ...(subject ? { subject } : {}) }),
      );
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${host}${path} in 15 s`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * httpd with the hostname CGI, plus /app/name and /app/exact holding the pod's name. A hostPort keeps
 * the alpha replicas on different nodes (the scheduler's NodePorts filter).
 */
const deployment = (app: string, replicas: number, hostPort = ''): string => `
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${app}, namespace: ${ns} }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: ${app} } }
  template:
    metadata: { labels: { app: ${app} } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: http
        image: ${BUSYBOX_IMAGE}
        imagePullPolicy: IfNotPresent
        command: [sh, -c, 'mkdir -p /tmp/w/cgi-bin /tmp/w/app && cp /www/cgi-bin/hostname /tmp/w/cgi-bin/ && hostname > /tmp/w/app/name && hostname > /tmp/w/app/exact && exec httpd -f -p 80 -h /tmp/w']
        ports: [ { name: http, containerPort: 80${hostPort} } ]
        readinessProbe: { tcpSocket: { port: 80 }, periodSeconds: 1 }
`;

const workloads = `
${deployment('alpha', 2, ', hostPort: 18080')}
---
${deployment('beta', 1)}
---
apiVersion: v1
kind: Service
metadata: { name: alpha, namespace: ${ns} }
spec:
  selector: { app: alpha }
  ports: [ { name: http, port: 80, targetPort: http } ]
---
apiVersion: v1
kind: Service
metadata: { name: beta, namespace: ${ns} }
spec:
  selector: { app: beta }
  ports: [ { name: web, port: 8080, targetPort: http } ]
`;

const backend = (svc: string, port: string): string =>
  `{ service: { name: ${svc}, port: { ${/^\d+$/.test(port) ? 'number' : 'name'}: ${port} } } }`;

const ingresses = `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: web, namespace: ${ns} }
spec:
  tls: [ { hosts: [secure.berth.test], secretName: secure-tls } ]
  rules:
  - host: alpha.berth.test
    http: { paths: [ { path: /, pathType: Prefix, backend: ${backend('alpha', '80')} } ] }
  - host: beta.berth.test
    http: { paths: [ { path: /, pathType: Prefix, backend: ${backend('beta', 'web')} } ] }
  - host: paths.berth.test
    http:
      paths:
      - { path: /app, pathType: Prefix, backend: ${backend('alpha', 'http')} }
      - { path: /app/exact, pathType: Exact, backend: ${backend('beta', '8080')} }
  - host: secure.berth.test
    http: { paths: [ { path: /, pathType: Prefix, backend: ${backend('beta', 'web')} } ] }
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: fallback, namespace: ${ns} }
spec:
  defaultBackend: ${backend('beta', 'web')}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: foreign, namespace: ${ns} }
spec:
  ingressClassName: not-ours
  rules:
  - host: foreign.berth.test
    http: { paths: [ { path: /, pathType: Prefix, backend: ${backend('alpha', '80')} } ] }
`;

const readyPods = async (k: KubectlRunner): Promise<number> => {
  const pods = (JSON.parse(await k.ok(['-n', ns, 'get', 'pods', '-o', 'json'])) as { items: Pod[] }).items;
  return pods.filter((p) => p.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'))
    .length;
};

describe('Ingress on Docker nodes', { skip }, () => {
  before(async () => {
    c = await startDockerCluster({ name, nodes: 2 });
    k27 = kubectlRunner('1.27', c.kubeconfig, c.home);
    k33 = kubectlRunner('1.33', c.kubeconfig, c.home);
    // The Ingress ports are configured in cluster.json, read at start: set free ones and restart.
    httpPort = await freePort();
    httpsPort = await freePort();
    const configPath = join(c.dataDir, 'cluster.json');
    const config = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
    writeFileSync(
      configPath,
      JSON.stringify({ ...config, ingressHTTPPort: httpPort, ingressHTTPSPort: httpsPort }, null, 2),
    );
    await c.restart();
    assert.match(
      c.output(),
      new RegExp(`Ingress: http://127\\.0\\.0\\.1:${httpPort}, https://127\\.0\\.0\\.1:${httpsPort}`),
    );
    await k33.ok(['create', 'namespace', ns]);
    await eventually(
      'the default service account',
      async () => (await k33.run(['-n', ns, 'get', 'sa', 'default'])).code === 0,
    );
    await k27.ok(['apply', '-f', '-'], { input: workloads });
    // The TLS Secret: a certificate for secure.berth.test from a CA of our own, via kubectl create secret tls.
    const ca = await createCa({ commonName: 'ingress-e2e-ca' });
    caPem = ca.certPem;
    const leaf = await issueServingCert(ca, {
      commonName: 'secure.berth.test',
      extraSANs: { dns: ['secure.berth.test'] },
    });
    certDir = mkdtempSync(join(tmpdir(), 'berth-ing-'));
    writeFileSync(join(certDir, 'tls.crt'), leaf.certPem);
    writeFileSync(join(certDir, 'tls.key'), leaf.keyPem);
    await k27.ok([
      '-n',
      ns,
      'create',
      'secret',
      'tls',
      'secure-tls',
      `--cert=${join(certDir, 'tls.crt')}`,
      `--key=${join(certDir, 'tls.key')}`,
    ]);
    await k33.ok(['apply', '-f', '-'], { input: ingresses });
    await eventually('3 pods Ready', async () => (await readyPods(k33)) === 3, 180_000, 500);
  });

  after(async () => {
    if (certDir) rmSync(certDir, { recursive: true, force: true });
    if (!c) return;
    await c.destroy();
    const r = spawnSync('docker', ['ps', '-aq', '--filter', `label=dev.berth.cluster=${name}`], {
      encoding: 'utf8',
    });
    assert.equal(r.stdout.trim(), '', 'containers left behind');
  });

  it('IngressClass berth is the default class; admitted Ingresses get 127.0.0.1 (kubectl 1.27)', async () => {
    const cls = JSON.parse(await k27.ok(['get', 'ingressclass', 'berth', '-o', 'json'])) as IngressClass;
    assert.equal(cls.spec?.controller, 'berth.dev/ingress');
    assert.equal(cls.metadata?.annotations?.['ingressclass.kubernetes.io/is-default-class'], 'true');
    const ing = await eventually('status of Ingress web', async () => {
      const i = JSON.parse(await k27.ok(['-n', ns, 'get', 'ingress', 'web', '-o', 'json'])) as Ingress;
      return i.status?.loadBalancer?.ingress?.length ? i : undefined;
    });
    assert.equal(ing.status?.loadBalancer?.ingress?.[0]?.ip, '127.0.0.1');
    assert.deepEqual(
      ing.status?.loadBalancer?.ingress?.[0]?.ports?.map((p) => p.port),
      [httpPort, httpsPort],
    );
    const table = await k27.ok(['-n', ns, 'get', 'ingress', 'web']);
    assert.match(
      table,
      /web\s+<none>\s+alpha\.berth\.test,beta\.berth\.test,paths\.berth\.test,secure\.berth\.test\s+127\.0\.0\.1\s+80, 443/,
    );
    const foreign = JSON.parse(
      await k27.ok(['-n', ns, 'get', 'ingress', 'foreign', '-o', 'json']),
    ) as Ingress;
    assert.equal(foreign.status?.loadBalancer?.ingress, undefined, 'another class is not admitted');
  });

  it('two hosts route by Host header to two services, over both alpha pods (kubectl 1.33)', async () => {
    const first = await eventually(
      'alpha.berth.test answers',
      async () => {
        const a = await ask('alpha.berth.test', '/cgi-bin/hostname').catch(() => undefined);
        return a?.status === 200 && a;
      },
      60_000,
      500,
    );
    assert.match(first.body, /^alpha-/);
    const alphas = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const a = await ask('alpha.berth.test:80', '/cgi-bin/hostname');
      assert.equal(a.status, 200);
      assert.match(a.body, /^alpha-/);
      alphas.add(a.body);
    }
    assert.equal(alphas.size, 2, `both alpha pods answer (saw ${[...alphas].join(', ')})`);
    const beta = await ask('beta.berth.test', '/cgi-bin/hostname');
    assert.equal(beta.status, 200);
    assert.match(beta.body, /^beta-/);
    // The two alpha pods run on different nodes (hostPort): each was reached through its node's agent.
    const pods = (
      JSON.parse(await k33.ok(['-n', ns, 'get', 'pods', '-l', 'app=alpha', '-o', 'json'])) as {
        items: Pod[];
      }
    ).items;
    assert.equal(new Set(pods.map((p) => p.spec?.nodeName)).size, 2);
  });

  it('paths: Exact beats Prefix, longest match; unmatched → the default backend', async (t) => {
    const exact = await ask('paths.berth.test', '/app/exact');
    assert.equal(exact.status, 200);
    assert.match(exact.body, /^beta-/);
    // A static file (Content-Length): the request time through the tunnel, measured 9 times. (The CGI's
    // close-delimited answers end ~1 s later: containerd's port-forward holds the pod's EOF until the
    // client's side ends or 1 s passes; kubectl port-forward shows the same.)
    const ms: number[] = [];
    for (let i = 0; i < 9; i++) {
      const t0 = performance.now();
      const prefix = await ask('paths.berth.test', '/app/name');
      ms.push(performance.now() - t0);
      assert.equal(prefix.status, 200);
      assert.match(prefix.body, /^alpha-/);
    }
    ms.sort((x, y) => x - y);
    t.diagnostic(`static file through the ingress: p50 ${ms[4]!.toFixed(0)} ms, max ${ms[8]!.toFixed(0)} ms`);
    const other = await ask('paths.berth.test', '/cgi-bin/hostname');
    assert.match(other.body, /^beta-/, 'no path matched: the default backend (Ingress fallback)');
    const unknownHost = await ask('nobody.berth.test', '/cgi-bin/hostname');
    assert.match(unknownHost.body, /^beta-/);
    const foreign = await ask('foreign.berth.test', '/app/name');
    assert.match(foreign.body, /^beta-/, "the other class's rule is not served");
  });

  it("TLS with the Secret's certificate, verified by the client against its CA", async () => {
    const a = await eventually(
      'secure.berth.test over TLS',
      async () => {
        const r = await ask('secure.berth.test', '/cgi-bin/hostname', { ca: caPem }).catch(() => undefined);
        return r?.status === 200 && r;
      },
      30_000,
      500,
    );
    assert.match(a.body, /^beta-/);
    assert.match(a.subject ?? '', /CN=secure\.berth\.test/);
    // Another name gets the controller's default certificate, which this CA does not vouch for.
    await assert.rejects(ask('alpha.berth.test', '/cgi-bin/hostname', { ca: caPem }));
  });
});
