import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, request, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, createServer as createNetServer, type AddressInfo } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import type { KObject } from '../api/object.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';
import { SharedInformerFactory } from '../client/informer.ts';
import { startCluster, type RunningCluster } from '../cluster/cluster.ts';
import { createCa } from '../pki/ca.ts';
import { issueServingCert } from '../pki/certs.ts';
import { waitFor } from '../testing/wait.ts';
import {
  DEFAULT_CLASS_ANNOTATION,
  INGRESSES,
  INGRESS_CLASSES,
  IngressController,
  startIngressController,
} from './controller.ts';
import { defaultIngressCertificate, type CertificatePem } from './tls.ts';
import { AGENT_PORTFORWARD_PROTOCOL, tunnelStream, type DialPod } from './tunnel.ts';

const SVC: ResourceRef = { group: '', version: 'v1', resource: 'services' };
const SLICES: ResourceRef = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' };
const SECRETS: ResourceRef = { group: '', version: 'v1', resource: 'secrets' };
const EVENTS: ResourceRef = { group: '', version: 'v1', resource: 'events' };

let dir: string;
let cluster: RunningCluster;
let client: InProcessClient;
let informers: SharedInformerFactory;
let ctl: IngressController;
let defaultCert: CertificatePem;
/** Pod name → the local HTTP server standing in for its port 8080. */
const pods = new Map<string, Server>();
let agent: WebSocketServer;
const dials: string[] = [];

/** A stand-in pod: answers JSON with its name, the request's Host, URL and headers. */
async function pod(name: string): Promise<void> {
  const s = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () =>
      res.end(JSON.stringify({ pod: name, url: req.url, headers: req.headers, body, method: req.method })),
    );
  });
  s.on('upgrade', (req, socket) => {
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n${name}:`);
    socket.pipe(socket);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  pods.set(name, s);
}

/**
 * A stand-in node agent speaking berth.portforward.v1 (binary bytes, text "EOF" half-close, an error
 * text then close 1011 when the pod refuses): the real tunnel code runs against it.
 */
function startAgent(): Promise<number> {
  agent = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  agent.on('connection', (ws, req) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const name = decodeURIComponent(u.pathname.split('/')[3] ?? '');
    const server = pods.get(name);
    const port = server ? (server.address() as AddressInfo).port : 1;
    const sock = connect({ host: '127.0.0.1', port });
    let opened = false;
    sock.on('connect', () => (opened = true));
    sock.on('data', (b: Buffer) => ws.send(b, { binary: true }));
    sock.on('end', () => ws.readyState === WebSocket.OPEN && ws.send('EOF', { binary: false }));
    sock.on('close', () => ws.readyState === WebSocket.OPEN && ws.close(1000));
    sock.on('error', (e) => {
      if (opened || ws.readyState !== WebSocket.OPEN) return;
      ws.send(`failed to connect to localhost:${u.searchParams.get('port')} inside namespace: ${e.message}`);
      ws.close(1011);
    });
    ws.on('message', (d: Buffer, isBinary: boolean) => {
      if (isBinary) sock.write(d);
      else if (d.toString() === 'EOF') sock.end();
    });
    ws.on('close', () => sock.destroy());
  });
  return new Promise((r) => agent.on('listening', () => r((agent.address() as AddressInfo).port)));
}

function fakeDial(agentPort: number): DialPod {
  return (ns, name, port) => {
    dials.push(`${ns}/${name}:${port}`);
    if (name.startsWith('unreachable')) return Promise.reject(new Error(`node of ${name} is down`));
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(
        `ws://127.0.0.1:${agentPort}/portForward/${ns}/${name}?port=${port}`,
        AGENT_PORTFORWARD_PROTOCOL,
      );
      ws.once('open', () => resolve(tunnelStream(ws)));
      ws.once('error', reject);
    });
  };
}

function service(name: string, ports: { name?: string; port: number }[]): void {
  client.create(SVC, 'default', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { ports: ports.map((p) => ({ ...p, protocol: 'TCP' })) },
  });
}

/** A hand-made EndpointSlice for a selectorless Service: pod name → ready. */
function slice(svc: string, portName: string, port: number, endpoints: Record<string, boolean>): void {
  client.create(SLICES, 'default', {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${svc}-${portName || 'x'}`, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    ports: [{ name: portName, port, protocol: 'TCP' }],
    endpoints: Object.entries(endpoints).map(([p, ready], i) => ({
      addresses: [`10.244.1.${i + 10}`],
      conditions: { ready },
      targetRef: { kind: 'Pod', namespace: 'default', name: p },
    })),
  });
}

function ingress(name: string, spec: Record<string, unknown>): KObject {
  return client.create(INGRESSES, 'default', {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name },
    spec,
  });
}

interface Answer {
  status: number;
  body: string;
  json?: { pod: string; url: string; headers: Record<string, string>; body: string };
}

function get(host: string, path: string, opts: { method?: string; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: ctl.ports().http, path, method: opts.method ?? 'GET', headers: { host } },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => {
          let json: Answer['json'];
          try {
            json = JSON.parse(body) as Answer['json'];
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, body, ...(json ? { json } : {}) });
        });
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

function getTls(servername: string, ca: string): Promise<{ body: string; subject: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port: ctl.ports().https,
        path: '/',
        servername,
        ca,
        headers: { host: servername },
      },
      (res) => {
        const subject = (res.socket as import('node:tls').TLSSocket).getPeerX509Certificate()?.subject ?? '';
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ body, subject }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-ingress-'));
  cluster = await startCluster({ dataDir: dir, apiPort: 0, name: 'ingress-test' });
  client = cluster.controllerClient;
  informers = new SharedInformerFactory(client);
  for (const p of ['web-a1', 'web-a2', 'web-b', 'api-1', 'secure-1']) await pod(p);
  const agentPort = await startAgent();
  defaultCert = await defaultIngressCertificate(
    readFileSync(join(dir, 'pki', 'ca.crt'), 'utf8'),
    readFileSync(join(dir, 'pki', 'ca.key'), 'utf8'),
  );
  ctl = new IngressController({
    client,
    informers,
    dial: fakeDial(agentPort),
    defaultCertificate: defaultCert,
    httpPort: 0,
    httpsPort: 0,
    log: () => undefined,
  });
  informers.start();
  await ctl.start();
  service('a', [{ name: 'http', port: 80 }]);
  slice('a', 'http', 8080, { 'web-a1': true, 'web-a2': true, 'web-a-notready': false });
  service('b', [{ port: 8000 }]);
  slice('b', '', 8080, { 'web-b': true });
  service('api', [{ name: 'api', port: 9000 }]);
  slice('api', 'api', 8080, { 'unreachable-1': true, 'api-1': true });
  service('empty', [{ port: 80 }]);
});

after(async () => {
  await ctl.stop();
  informers.stop();
  await new Promise<void>((r) => agent.close(() => r()));
  for (const s of pods.values()) s.close();
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('IngressClass berth is created as the default class', () => {
  const c = client.get(INGRESS_CLASSES, '', 'berth');
  assert.equal((c['spec'] as { controller: string }).controller, 'berth.dev/ingress');
  assert.equal(c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION], 'true');
});

test('two hosts route by Host header to two services; round-robin over ready endpoints only', async () => {
  ingress('hosts', {
    rules: [
      {
        host: 'a.test',
        http: {
          paths: [
            { path: '/', pathType: 'Prefix', backend: { service: { name: 'a', port: { name: 'http' } } } },
          ],
        },
      },
      {
        host: 'b.test',
        http: {
          paths: [
            { path: '/', pathType: 'Prefix', backend: { service: { name: 'b', port: { number: 8000 } } } },
          ],
        },
      },
    ],
  });
  await waitFor('ingress routes', async () => (await get('b.test', '/')).json?.pod === 'web-b');
  const seen = new Set<string>();
  for (let i = 0; i < 6; i++) seen.add((await get('a.test', '/x')).json?.pod ?? '?');
  assert.deepEqual([...seen].sort(), ['web-a1', 'web-a2']);
  assert.equal((await get('c.test', '/')).status, 404);
  const st = await waitFor('status', () => {
    const ing = client.get(INGRESSES, 'default', 'hosts');
    return (ing['status'] as { loadBalancer?: { ingress?: { ip: string; ports: { port: number }[] }[] } })
      .loadBalancer?.ingress;
  });
  assert.equal(st[0]?.ip, '127.0.0.1');
  assert.deepEqual(
    st[0]?.ports.map((p) => p.port),
    [ctl.ports().http, ctl.ports().https],
  );
});

test('the Host header is kept, X-Forwarded-* are set, the body and method pass', async () => {
  ingress('headers', {
    rules: [
      {
        host: 'h.test',
        http: {
          paths: [
            { path: '/echo', pathType: 'Exact', backend: { service: { name: 'b', port: { number: 8000 } } } },
          ],
        },
      },
    ],
  });
  const r = await waitFor('route', async () => {
    const a = await get('h.test:8080', '/echo', { method: 'POST', body: 'hello' });
    return a.status === 200 && a;
  });
  const h = r.json!.headers;
  assert.equal(h['host'], 'h.test:8080');
  assert.equal(h['x-forwarded-host'], 'h.test:8080');
  assert.equal(h['x-forwarded-proto'], 'http');
  assert.equal(h['x-forwarded-for'], '127.0.0.1');
  assert.equal(r.json!.body, 'hello');
  assert.equal(r.json!.url, '/echo');
  assert.equal((await get('h.test', '/echo/more')).status, 404);
});

test('path routing, a backend that cannot be dialed is skipped, no endpoints → 503', async () => {
  ingress('paths', {
    defaultBackend: { service: { name: 'b', port: { number: 8000 } } },
    rules: [
      {
        host: 'p.test',
        http: {
          paths: [
            {
              path: '/api',
              pathType: 'Prefix',
              backend: { service: { name: 'api', port: { name: 'api' } } },
            },
            {
              path: '/empty',
              pathType: 'Prefix',
              backend: { service: { name: 'empty', port: { number: 80 } } },
            },
            {
              path: '/missing',
              pathType: 'Prefix',
              backend: { service: { name: 'nope', port: { number: 80 } } },
            },
          ],
        },
      },
    ],
  });
  await waitFor('route', async () => (await get('p.test', '/api/v1')).json?.pod === 'api-1');
  for (let i = 0; i < 3; i++) assert.equal((await get('p.test', '/api/v1')).json?.pod, 'api-1');
  assert.ok(
    dials.some((d) => d.startsWith('default/unreachable-1')),
    'the unreachable endpoint was tried',
  );
  assert.equal((await get('p.test', '/other')).json?.pod, 'web-b', 'default backend');
  const empty = await get('p.test', '/empty');
  assert.equal(empty.status, 503);
  assert.match(empty.body, /no ready endpoints/);
  assert.match((await get('p.test', '/missing')).body, /service default\/nope not found/);
});

test("a pod that refuses the connection → 502 with the agent's message; upgrades are relayed", async () => {
  service('refusing', [{ port: 80 }]);
  slice('refusing', '', 8080, { 'no-such-pod': true });
  ingress('refuse', {
    rules: [
      {
        host: 'r.test',
        http: {
          paths: [
            {
              path: '/',
              pathType: 'Prefix',
              backend: { service: { name: 'refusing', port: { number: 80 } } },
            },
          ],
        },
      },
    ],
  });
  const r = await waitFor('refused', async () => {
    const a = await get('r.test', '/');
    return a.status === 502 && a;
  });
  assert.match(r.body, /failed to connect to localhost:8080/);
  const echoed = await new Promise<string>((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port: ctl.ports().http,
      path: '/ws',
      headers: { host: 'b.test', connection: 'Upgrade', upgrade: 'echo' },
    });
    req.on('upgrade', (_res, socket, head) => {
      let got = head.toString();
      socket.on('data', (d: Buffer) => {
        got += d.toString();
        if (got.endsWith('ping')) {
          socket.destroy();
          resolve(got);
        }
      });
      socket.write('ping');
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(echoed, 'web-b:ping');
});

test('Ingresses of another class are ignored; class-less ones are admitted', async () => {
  client.create(INGRESS_CLASSES, '', {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: { name: 'other' },
    spec: { controller: 'example.com/other' },
  });
  ingress('other', {
    ingressClassName: 'other',
    rules: [
      {
        host: 'o.test',
        http: {
          paths: [
            { path: '/', pathType: 'Prefix', backend: { service: { name: 'a', port: { number: 80 } } } },
          ],
        },
      },
    ],
  });
  ingress('explicit', {
    ingressClassName: 'berth',
    rules: [
      {
        host: 'e.test',
        http: {
          paths: [
            { path: '/', pathType: 'Prefix', backend: { service: { name: 'b', port: { number: 8000 } } } },
          ],
        },
      },
    ],
  });
  await waitFor('explicit class routed', async () => (await get('e.test', '/')).status === 200);
  // Not routed to "a": the request falls to the default backend of Ingress "paths" (service b).
  assert.equal((await get('o.test', '/')).json?.pod, 'web-b');
  const other = client.get(INGRESSES, 'default', 'other');
  assert.equal(
    (other['status'] as { loadBalancer?: { ingress?: unknown[] } }).loadBalancer?.ingress,
    undefined,
  );
});

test('TLS: SNI picks the certificate from the Ingress Secret; unknown hosts get the default one', async () => {
  const ca = await createCa({ commonName: 'test-ca' });
  const leaf = await issueServingCert(ca, { commonName: 'secure.test', extraSANs: { dns: ['secure.test'] } });
  client.create(SECRETS, 'default', {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'secure-tls' },
    type: 'kubernetes.io/tls',
    data: {
      'tls.crt': Buffer.from(leaf.certPem).toString('base64'),
      'tls.key': Buffer.from(leaf.keyPem).toString('base64'),
    },
  });
  service('secure', [{ port: 443 }]);
  slice('secure', '', 8080, { 'secure-1': true });
  ingress('tls', {
    tls: [{ hosts: ['secure.test'], secretName: 'secure-tls' }],
    rules: [
      {
        host: 'secure.test',
        http: {
          paths: [
            {
              path: '/',
              pathType: 'Prefix',
              backend: { service: { name: 'secure', port: { number: 443 } } },
            },
          ],
        },
      },
    ],
  });
  const r = await waitFor('TLS route', async () => {
    const a = await getTls('secure.test', ca.certPem).catch(() => undefined);
    return a?.body.includes('secure-1') && a;
  });
  assert.match(r.subject, /CN=secure\.test/);
  const proto = JSON.parse(r.body) as { headers: Record<string, string> };
  assert.equal(proto.headers['x-forwarded-proto'], 'https');
  // An unknown host: the default certificate (cluster CA), so the test CA does not verify it.
  await assert.rejects(getTls('unknown.test', ca.certPem));
  const dflt = await getTls('localhost', readFileSync(join(dir, 'pki', 'ca.crt'), 'utf8'));
  assert.match(dflt.subject, /CN=berth ingress default/);
  assert.equal(new X509Certificate(defaultCert.certPem).subject.includes('berth ingress default'), true);
  // A TLS entry naming a missing Secret: a Warning event on that Ingress; its hosts get the default cert.
  ingress('badtls', {
    tls: [{ hosts: ['broken.test'], secretName: 'nope' }],
    rules: [
      {
        host: 'broken.test',
        http: {
          paths: [
            { path: '/', pathType: 'Prefix', backend: { service: { name: 'b', port: { number: 8000 } } } },
          ],
        },
      },
    ],
  });
  await waitFor('InvalidTLS event', () =>
    client
      .list(EVENTS, 'default')
      .items.some(
        (e) =>
          e['reason'] === 'InvalidTLS' &&
          (e['involvedObject'] as { name: string }).name === 'badtls' &&
          String(e['message']).includes('secret default/nope not found'),
      ),
  );
});

test('a port in use: a log line and a Warning event on the IngressClass, then served once free', async () => {
  await ctl.stop(); // one controller writes the Ingresses' status at a time
  const holder = createNetServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
  const port = (holder.address() as AddressInfo).port;
  const lines: string[] = [];
  const second = await startIngressController({
    client,
    informers,
    dial: () => Promise.reject(new Error('unused')),
    defaultCertificate: defaultCert,
    httpPort: port,
    httpsPort: 0,
    retryMs: 100,
    log: (l) => lines.push(l),
  });
  try {
    assert.equal(second.ports().http, undefined);
    assert.match(lines.join('\n'), new RegExp(`127\\.0\\.0\\.1:${port}: the port is in use`));
    await waitFor('PortInUse event', () =>
      client
        .list(EVENTS, 'default')
        .items.some(
          (e) =>
            e['reason'] === 'PortInUse' &&
            (e['involvedObject'] as { kind: string }).kind === 'IngressClass' &&
            String(e['message']).includes(String(port)),
        ),
    );
    await new Promise<void>((r) => holder.close(() => r()));
    await waitFor('listening after the port is free', () => second.ports().http === port, 5000);
  } finally {
    await second.stop();
  }
});
