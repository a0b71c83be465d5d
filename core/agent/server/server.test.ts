/**
 * The agent endpoint's routing and authentication against a fake CRI (no node): mTLS identities, the
 * Status answers, /containerLogs from a temp file, and WebSocket upgrades refused with a Status.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createCa } from '../../pki/ca.ts';
import { issueClientCert, issueServingCert } from '../../pki/certs.ts';
import type { CriContainer, CriContainerStatusResponse, CriPodSandbox } from '../cri/types.ts';
import type { StreamCri } from './containers.ts';
import { route, startAgentServer, type AgentServer } from './server.ts';
import { get, openWebSocket, type EndpointTarget } from './test-client.ts';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { dialSpdyTls } from '../../streams/spdy/client.ts';
import { UpgradeRefused } from '../../streams/upgrade-dial.ts';

const labels = (name: string, uid = 'u1'): Record<string, string> => ({
  'io.kubernetes.pod.namespace': 'ns',
  'io.kubernetes.pod.name': 'web',
  'io.kubernetes.pod.uid': uid,
  'io.kubernetes.container.name': name,
});

/** containerd's streaming server for the tunnel test: set by the test, handed out for `exec … tunnel`. */
let streamingUrl = '';

function fakeCri(logDir: string): StreamCri & { calls: string[] } {
  const containers: CriContainer[] = [
    {
      id: 'c-main',
      podSandboxId: 'sb',
      imageRef: '',
      imageId: '',
      state: 'CONTAINER_RUNNING',
      createdAt: 2,
      labels: labels('main'),
      annotations: { 'io.kubernetes.container.restartCount': '1' },
    },
    {
      id: 'c-main-0',
      podSandboxId: 'sb',
      imageRef: '',
      imageId: '',
      state: 'CONTAINER_EXITED',
      createdAt: 1,
      labels: labels('main'),
      annotations: { 'io.kubernetes.container.restartCount': '0' },
    },
    {
      id: 'c-new',
      podSandboxId: 'sb',
      imageRef: '',
      imageId: '',
      state: 'CONTAINER_CREATED',
      createdAt: 3,
      labels: labels('new'),
      annotations: {},
    },
  ];
  const sandboxes: CriPodSandbox[] = [
    {
      id: 'sb',
      state: 'SANDBOX_READY',
      createdAt: 1,
      labels: labels(''),
      annotations: {},
      runtimeHandler: '',
    },
  ];
  const match = (l: Record<string, string>, sel: Record<string, string> = {}): boolean =>
    Object.entries(sel).every(([k, v]) => l[k] === v);
  const calls: string[] = [];
  return {
    calls,
    listContainers: (f) => Promise.resolve(containers.filter((c) => match(c.labels, f?.labelSelector))),
    listPodSandbox: (f) =>
      Promise.resolve(
        sandboxes.filter((s) =>
          match(
            s.labels,
            Object.fromEntries(
              Object.entries(f?.labelSelector ?? {}).filter(([k]) => !k.includes('container')),
            ),
          ),
        ),
      ),
    containerStatus: (id) => {
      const c = containers.find((x) => x.id === id);
      const attempt = c?.annotations['io.kubernetes.container.restartCount'] ?? '0';
      return Promise.resolve({
        status: c && { id, state: c.state, logPath: join(logDir, `main/${attempt}.log`) },
        info: {},
      } as CriContainerStatusResponse);
    },
    exec: (r) => {
      calls.push(`exec ${r.containerId} ${r.cmd.join(' ')}`);
      if (r.cmd[0] === 'tunnel') return Promise.resolve(streamingUrl);
      return Promise.reject(Object.assign(new Error('CRI Exec: NOT_FOUND: no such container'), { code: 5 }));
    },
    attach: () => Promise.reject(new Error('unused')),
    portForward: (sb, ports) => {
      calls.push(`portForward ${sb} ${ports.join(',')}`);
      return Promise.reject(new Error('runtime down'));
    },
  };
}

describe('agent endpoint: routing and authentication', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-endpoint-'));
  let server: AgentServer;
  let ok: EndpointTarget;
  let other: EndpointTarget;
  let foreign: EndpointTarget;
  const cri = fakeCri(dir);

  before(async () => {
    mkdirSync(join(dir, 'main'));
    writeFileSync(join(dir, 'main/1.log'), '2026-01-02T03:04:05.5Z stdout F now\n');
    writeFileSync(join(dir, 'main/0.log'), '2026-01-02T03:04:01Z stdout F before\n');
    const ca = await createCa();
    const serving = await issueServingCert(ca, { commonName: 'system:node:n1', extraSANs: { dns: ['n1'] } });
    server = await startAgentServer({
      cri,
      certPem: serving.certPem,
      keyPem: serving.keyPem,
      caPem: ca.certPem,
      host: '127.0.0.1',
      port: 0,
      log: () => undefined,
    });
    const apiserver = await issueClientCert(ca, {
      user: 'kube-apiserver-kubelet-client',
      groups: ['system:masters'],
    });
    const node = await issueClientCert(ca, { user: 'system:node:n2', groups: ['system:nodes'] });
    const otherCa = await createCa();
    const impostor = await issueClientCert(otherCa, { user: 'kube-apiserver-kubelet-client' });
    const t = { host: '127.0.0.1', port: server.port, servername: 'n1', caPem: ca.certPem };
    ok = { ...t, certPem: apiserver.certPem, keyPem: apiserver.keyPem };
    other = { ...t, certPem: node.certPem, keyPem: node.keyPem };
    foreign = { ...t, certPem: impostor.certPem, keyPem: impostor.keyPem };
  });
  after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('route() maps the kubelet paths', () => {
    const r = (p: string) => route(new URL(p, 'https://x'));
    assert.deepEqual(r('/containerLogs/ns/web/main?podUID=u'), {
      kind: 'logs',
      pod: { namespace: 'ns', name: 'web', uid: 'u' },
      container: 'main',
    });
    assert.deepEqual(r('/exec/ns/web/main'), {
      kind: 'exec',
      pod: { namespace: 'ns', name: 'web' },
      container: 'main',
    });
    assert.deepEqual(r('/portForward/ns/web?port=80'), {
      kind: 'portForward',
      pod: { namespace: 'ns', name: 'web' },
    });
    assert.deepEqual(r('/healthz'), { kind: 'healthz' });
    for (const p of ['/', '/exec/ns/web', '/containerLogs/ns', '/portForward/ns/web/x', '/other/a/b/c'])
      assert.equal(r(p), undefined, p);
  });

  test('only the API server certificate of the cluster CA is accepted', async () => {
    assert.equal((await get(ok, '/healthz')).body, 'ok');
    const anon = await get({ ...ok, certPem: undefined, keyPem: undefined }, '/healthz');
    assert.equal(anon.status, 401);
    assert.equal(JSON.parse(anon.body).reason, 'Unauthorized');
    assert.equal((await get(foreign, '/healthz')).status, 401);
    const forbidden = await get(other, '/containerLogs/ns/web/main');
    assert.equal(forbidden.status, 403);
    assert.match(JSON.parse(forbidden.body).message, /user=system:node:n2/);
    const ws = await openWebSocket(other, '/exec/ns/web/main?command=sh&stdout=1', 'v5.channel.k8s.io').catch(
      (e: Error) => e.message,
    );
    assert.match(String(ws), /^403 /);
  });

  test('containerLogs from the CRI log file; Status errors', async () => {
    assert.deepEqual(await get(ok, '/containerLogs/ns/web/main'), {
      status: 200,
      body: 'now\n',
      type: 'text/plain',
    });
    assert.equal((await get(ok, '/containerLogs/ns/web/main?previous=true')).body, 'before\n');
    assert.equal(
      (await get(ok, '/containerLogs/ns/web/main?timestamps=true')).body,
      '2026-01-02T03:04:05.5Z now\n',
    );
    const waiting = await get(ok, '/containerLogs/ns/web/new');
    assert.equal(waiting.status, 400);
    assert.deepEqual(JSON.parse(waiting.body), {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      reason: 'BadRequest',
      code: 400,
      message: 'container "new" in pod "web" is waiting to start: ContainerCreating',
    });
    assert.equal((await get(ok, '/containerLogs/ns/web/main?podUID=other')).status, 404);
    assert.equal((await get(ok, '/containerLogs/ns/gone/main')).status, 404);
    assert.equal((await get(ok, '/containerLogs/ns/web/main?tailLines=x')).status, 400);
    assert.equal((await get(ok, '/nothing/here')).status, 404);
    assert.equal((await get(ok, '/exec/ns/web/main?command=ls')).status, 400, 'exec needs an upgrade');
  });

  test('upgrades refused with a Status before the 101', async () => {
    const open = (path: string, protocol = 'v5.channel.k8s.io') =>
      openWebSocket(ok, path, protocol).then(
        () => 'opened',
        (e: Error) => e.message,
      );
    assert.match(await open('/exec/ns/web/main?stdout=1'), /^400 .*at least one command/);
    assert.match(await open('/exec/ns/web/main?command=ls'), /^400 .*at least 1 of stdin, stdout, stderr/);
    assert.match(await open('/exec/ns/web/main?command=ls&command=-l&stdout=1'), /^400 .*no such container/);
    assert.deepEqual(cri.calls.splice(0), ['exec c-main ls -l']);
    assert.match(await open('/attach/ns/web/new?stdout=1'), /^400 .*waiting to start/);
    assert.match(await open('/portForward/ns/web?port=0', 'berth.portforward.v1'), /^400 .*invalid port/);
    assert.match(await open('/portForward/ns/web?port=80', 'berth.portforward.v1'), /^500 .*runtime down/);
    assert.deepEqual(cri.calls.splice(0), ['portForward sb 80']);
    assert.match(await open('/portForward/ns/nope?port=80', 'berth.portforward.v1'), /^404 /);
    assert.match(
      await open('/exec/ns/web/main?command=ls&stdout=1', 'v4.channel.k8s.io'),
      /^400 .*subprotocol must be v5/,
    );
    assert.match(
      await open('/portForward/ns/web?port=80'),
      /^400 .*subprotocol must be berth.portforward.v1/,
    );
    assert.equal(server.openStreams(), 0);
  });

  test('a SPDY upgrade is tunnelled to the streaming server: its request, its 101, then bytes both ways', async () => {
    let seen = '';
    const runtime = createTcpServer((sock) => {
      let head = '';
      const onData = (b: Buffer): void => {
        head += b.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        sock.off('data', onData);
        seen = head.slice(0, end);
        sock.write(
          'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n' +
            'X-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n',
        );
        if (head.length > end + 4) sock.write(head.slice(end + 4));
        sock.pipe(sock); // an echo after the upgrade
      };
      sock.on('data', onData);
    });
    await new Promise<void>((r) => runtime.listen(0, '127.0.0.1', r));
    streamingUrl = `http://127.0.0.1:${(runtime.address() as AddressInfo).port}/exec/token-1`;
    /** The API server's dial (NodeConnector.spdyTunnel). */
    const upgrade = (t: EndpointTarget, path: string) =>
      dialSpdyTls(
        { host: t.host, port: t.port, ca: t.caPem, servername: t.servername, cert: t.certPem, key: t.keyPem },
        path,
        ['v4.channel.k8s.io', 'v3.channel.k8s.io'],
      );
    const conn = await upgrade(ok, '/exec/ns/web/main?command=tunnel&stdout=1');
    assert.equal(conn.protocol, 'v4.channel.k8s.io');
    assert.match(seen, /^POST \/exec\/token-1 HTTP\/1\.1\r\n/);
    assert.match(seen, /\r\nUpgrade: SPDY\/3\.1(\r\n|$)/);
    assert.deepEqual(
      [...seen.matchAll(/X-Stream-Protocol-Version: (.*)/g)].map((m) => m[1]?.trim()),
      ['v4.channel.k8s.io', 'v3.channel.k8s.io'],
    );
    assert.equal(server.openStreams(), 1);
    const echoed = new Promise<string>((resolve) => {
      let got = '';
      conn.reads.setSink((b) => {
        got += b.toString();
        if (got.length >= 9) resolve(got);
        return true;
      });
    });
    conn.socket.write('ping-pong');
    assert.equal(await echoed, 'ping-pong');
    assert.deepEqual(cri.calls.splice(0), ['exec c-main tunnel']);
    conn.socket.destroy();
    for (let i = 0; i < 100 && server.openStreams() > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(server.openStreams(), 0, 'the tunnel is gone with its client');
    // Failures are Status answers before any 101, the same as for WebSockets.
    const refused = await upgrade(ok, '/exec/ns/web/main?stdout=1').catch((e: unknown) => e);
    assert.ok(refused instanceof UpgradeRefused);
    assert.equal(refused.statusCode, 400);
    assert.match(refused.message, /at least one command/);
    const forbidden = await upgrade(other, '/exec/ns/web/main?command=tunnel&stdout=1').catch(
      (e: unknown) => e,
    );
    assert.equal((forbidden as UpgradeRefused).statusCode, 403);
    runtime.close();
  });
});
