import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import {
  Server as GrpcServer,
  ServerCredentials,
  status as grpcStatus,
  type UntypedHandleCall,
} from '@grpc/grpc-js';
import { createCa } from '../../pki/ca.ts';
import { issueServingCert } from '../../pki/certs.ts';
import { waitFor } from '../../testing/wait.ts';
import { decodeHealthCheckResponse, encodeHealthCheckRequest } from './grpc-probe.ts';
import {
  ProbeWorker,
  probeTerminationGracePeriod,
  probeTiming,
  resolvePort,
  runProbeOnce,
  type ProbeTarget,
} from './probes.ts';

let http: Server;
let port = 0;
let status = 200;
const seen: { url: string; headers: IncomingHttpHeaders }[] = [];

function listen(s: Server | ReturnType<typeof createTcpServer>): Promise<number> {
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
}

before(async () => {
  http = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    if (req.url === '/status') return void res.writeHead(status).end('body');
    if (req.url === '/redirect-local') return void res.writeHead(302, { location: '/ok' }).end();
    if (req.url === '/redirect-away')
      return void res.writeHead(301, { location: 'http://localhost:1/elsewhere' }).end('moved');
    if (req.url === '/loop') return void res.writeHead(302, { location: '/loop' }).end();
    if (req.url === '/slow') return void setTimeout(() => res.writeHead(200).end(), 3000);
    res.writeHead(req.url === '/ok' ? 200 : 404).end('ok');
  });
  port = await listen(http);
});

after(() => {
  http.closeAllConnections();
  http.close();
});

function target(extra: Partial<ProbeTarget> = {}): ProbeTarget {
  return {
    podIP: '127.0.0.1',
    exec: () => Promise.reject(new Error('no exec here')),
    ...extra,
  };
}

test('httpGet: 200–399 success, other codes fail with the kubelet message, headers and user agent', async () => {
  status = 200;
  const ok = await runProbeOnce(
    {
      httpGet: {
        path: '/status',
        port,
        httpHeaders: [
          { name: 'X-Probe', value: 'yes' },
          { name: 'Host', value: 'example.test' },
        ],
      },
    },
    target(),
  );
  assert.equal(ok.result, 'success');
  const req = seen.at(-1);
  assert.equal(req?.headers['x-probe'], 'yes');
  assert.equal(req?.headers['host'], 'example.test');
  assert.match(String(req?.headers['user-agent']), /^kube-probe\/1\.\d+$/);
  status = 399;
  assert.equal((await runProbeOnce({ httpGet: { path: '/status', port } }, target())).result, 'success');
  status = 500;
  assert.deepEqual(await runProbeOnce({ httpGet: { path: '/status', port } }, target()), {
    result: 'failure',
    output: 'HTTP probe failed with statuscode: 500',
  });
  status = 199;
  assert.equal((await runProbeOnce({ httpGet: { path: '/status', port } }, target())).result, 'failure');
});

test('httpGet: named ports resolve through the container; unknown names are probe errors', async () => {
  const container = { name: 'web', ports: [{ name: 'http', containerPort: port }] };
  assert.equal(
    (await runProbeOnce({ httpGet: { path: '/ok', port: 'http' } }, target({ container }))).result,
    'success',
  );
  assert.equal(resolvePort('8080', undefined), 8080);
  const r = await runProbeOnce({ httpGet: { path: '/ok', port: 'admin' } }, target({ container }));
  assert.equal(r.result, 'error');
  assert.match(r.output, /couldn't find port: admin/);
});

test('httpGet: same-host redirects are followed, others end the probe with a warning; loops stop at 10', async () => {
  const local = await runProbeOnce({ httpGet: { path: '/redirect-local', port } }, target());
  assert.equal(local.result, 'success');
  assert.equal(seen.at(-1)?.url, '/ok');
  assert.deepEqual(await runProbeOnce({ httpGet: { path: '/redirect-away', port } }, target()), {
    result: 'warning',
    output: 'Probe terminated redirects, Response body: moved',
  });
  const loop = await runProbeOnce({ httpGet: { path: '/loop', port } }, target());
  assert.equal(loop.result, 'failure');
  assert.match(loop.output, /stopped after 10 redirects/);
});

test('httpGet: refused connections and timeouts fail with Go-style messages', async () => {
  const closed = createTcpServer();
  const dead = await listen(closed);
  await new Promise((r) => closed.close(r));
  const refused = await runProbeOnce({ httpGet: { path: '/', port: dead } }, target());
  assert.equal(refused.result, 'failure');
  assert.equal(
    refused.output,
    `Get "http://127.0.0.1:${dead}/": dial tcp 127.0.0.1:${dead}: connect: connection refused`,
  );
  const t0 = Date.now();
  const slow = await runProbeOnce({ httpGet: { path: '/slow', port }, timeoutSeconds: 1 }, target());
  assert.equal(slow.result, 'failure');
  assert.match(slow.output, /Client\.Timeout exceeded/);
  assert.ok(Date.now() - t0 < 2500, 'the timeout bounds the probe');
});

test('httpGet over HTTPS does not verify the certificate', async () => {
  const ca = await createCa();
  const cert = await issueServingCert(ca);
  const s = createHttpsServer({ cert: cert.certPem, key: cert.keyPem }, (_req, res) =>
    res.writeHead(204).end(),
  );
  const p = await listen(s as unknown as Server);
  try {
    const r = await runProbeOnce({ httpGet: { path: '/', port: p, scheme: 'HTTPS' } }, target());
    assert.equal(r.result, 'success');
  } finally {
    s.close();
  }
});

test('tcpSocket: open port succeeds, closed port fails', async () => {
  assert.equal((await runProbeOnce({ tcpSocket: { port } }, target())).result, 'success');
  const closed = createTcpServer();
  const dead = await listen(closed);
  await new Promise((r) => closed.close(r));
  assert.deepEqual(await runProbeOnce({ tcpSocket: { port: dead } }, target()), {
    result: 'failure',
    output: `dial tcp 127.0.0.1:${dead}: connect: connection refused`,
  });
});

test('exec: exit code 0 succeeds, others fail with the output, a timeout fails', async () => {
  const calls: [string[], number][] = [];
  const t = target({
    exec: (cmd, timeout) => {
      calls.push([cmd, timeout]);
      if (cmd[0] === 'hang') return new Promise(() => undefined);
      if (cmd[0] === 'broken') return Promise.reject(new Error('container not running'));
      return Promise.resolve({ exitCode: cmd[0] === 'true' ? 0 : 1, output: `ran ${cmd[0]}` });
    },
  });
  assert.deepEqual(await runProbeOnce({ exec: { command: ['true'] }, timeoutSeconds: 2 }, t), {
    result: 'success',
    output: 'ran true',
  });
  assert.deepEqual(calls[0], [['true'], 2]);
  assert.deepEqual(await runProbeOnce({ exec: { command: ['false'] } }, t), {
    result: 'failure',
    output: 'ran false',
  });
  assert.deepEqual(await runProbeOnce({ exec: { command: ['hang', 'x'] }, timeoutSeconds: 1 }, t), {
    result: 'failure',
    output: 'command "hang x" timed out',
  });
  assert.equal((await runProbeOnce({ exec: { command: ['broken'] } }, t)).result, 'error');
});

test('grpc: grpc.health.v1 Check against a local server', async () => {
  let serving = 1;
  const server = new GrpcServer();
  server.addService(
    {
      Check: {
        path: '/grpc.health.v1.Health/Check',
        requestStream: false,
        responseStream: false,
        requestSerialize: (r: { service: string }) => encodeHealthCheckRequest(r.service),
        requestDeserialize: (b: Buffer) => ({ service: b.length ? b.subarray(2).toString() : '' }),
        responseSerialize: (s: number) => Buffer.from([0x08, s]),
        responseDeserialize: decodeHealthCheckResponse,
      },
    },
    {
      Check: ((call: { request: { service: string } }, cb: (e: unknown, v?: number) => void) => {
        const svc = call.request.service;
        if (svc === 'unknown') cb({ code: grpcStatus.UNIMPLEMENTED, details: 'nope' });
        else cb(null, svc === 'db' ? 2 : serving);
      }) as unknown as UntypedHandleCall,
    },
  );
  const gport = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  try {
    assert.deepEqual(await runProbeOnce({ grpc: { port: gport } }, target()), {
      result: 'success',
      output: 'service healthy',
    });
    assert.deepEqual(await runProbeOnce({ grpc: { port: gport, service: 'db' } }, target()), {
      result: 'failure',
      output: 'service unhealthy (responded with "NOT_SERVING")',
    });
    serving = 0;
    const u = await runProbeOnce({ grpc: { port: gport, service: 'unknown' } }, target());
    assert.equal(u.result, 'failure');
    assert.match(u.output, /does not implement the grpc health protocol/);
  } finally {
    server.forceShutdown();
  }
  const closed = await runProbeOnce({ grpc: { port: gport }, timeoutSeconds: 1 }, target());
  assert.equal(closed.result, 'failure');
  assert.match(closed.output, /^timeout: failed to connect service "127\.0\.0\.1:\d+" within 1s/);
});

test('probe defaults and termination grace period', () => {
  assert.deepEqual(probeTiming({}), {
    initialDelaySeconds: 0,
    timeoutSeconds: 1,
    periodSeconds: 10,
    successThreshold: 1,
    failureThreshold: 3,
  });
  const pod = { metadata: { name: 'p' }, spec: { containers: [], terminationGracePeriodSeconds: 45 } };
  assert.equal(probeTerminationGracePeriod(pod, {}), 45);
  assert.equal(probeTerminationGracePeriod(pod, { terminationGracePeriodSeconds: 5 }), 5);
  assert.equal(probeTerminationGracePeriod({ metadata: {}, spec: { containers: [] } }, {}), 30);
});

/** A probe whose outcome the test switches, counting runs. */
function scripted(): { t: ProbeTarget; set(ok: boolean): void; runs(): number } {
  let ok = true;
  let runs = 0;
  return {
    t: target({
      exec: () => {
        runs++;
        return Promise.resolve({ exitCode: ok ? 0 : 1, output: ok ? '' : 'boom' });
      },
    }),
    set: (v) => (ok = v),
    runs: () => runs,
  };
}

test('liveness worker: starts healthy, reports after failureThreshold failures, then holds', async () => {
  const s = scripted();
  const changes: { ok: boolean; message: string }[] = [];
  const events: string[] = [];
  const w = new ProbeWorker(
    'liveness',
    { exec: { command: ['check'] }, periodSeconds: 1, failureThreshold: 2 },
    s.t,
    (r) => changes.push(r),
    { onProbe: (r) => events.push(r.message) },
  );
  w.start();
  try {
    await waitFor('first probe', () => (s.runs() >= 1 ? true : undefined), 3000);
    assert.deepEqual(changes, [], 'success on a healthy container reports nothing');
    s.set(false);
    await waitFor('liveness failure', () => (changes.length ? true : undefined), 6000);
    assert.deepEqual(changes, [{ ok: false, message: 'Liveness probe failed: boom' }]);
    assert.ok(events.filter((e) => e === 'Liveness probe failed: boom').length >= 2);
    const runs = s.runs();
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(s.runs(), runs, 'no probing after a reported liveness failure');
  } finally {
    w.stop();
  }
});

test('readiness worker: starts not ready, initialDelay, successThreshold, flips back on failures', async () => {
  const s = scripted();
  const changes: { ok: boolean; message: string }[] = [];
  const w = new ProbeWorker(
    'readiness',
    {
      exec: { command: ['check'] },
      periodSeconds: 1,
      initialDelaySeconds: 1,
      successThreshold: 2,
      failureThreshold: 1,
    },
    s.t,
    (r) => changes.push(r),
  );
  const t0 = Date.now();
  w.start();
  try {
    await waitFor('ready', () => (changes.length ? true : undefined), 6000);
    assert.ok(Date.now() - t0 >= 1900, 'initial delay + two successes');
    assert.equal(s.runs(), 2);
    assert.deepEqual(changes, [{ ok: true, message: '' }]);
    s.set(false);
    await waitFor('not ready', () => (changes.length === 2 ? true : undefined), 4000);
    assert.deepEqual(changes[1], { ok: false, message: 'Readiness probe failed: boom' });
    assert.equal(w.result, 'failure');
  } finally {
    w.stop();
  }
});

test('startup worker: reports its first success and stops probing', async () => {
  const s = scripted();
  const changes: { ok: boolean; message: string }[] = [];
  const w = new ProbeWorker('startup', { exec: { command: ['check'] }, periodSeconds: 1 }, s.t, (r) =>
    changes.push(r),
  );
  assert.equal(w.result, 'unknown');
  w.start();
  try {
    await waitFor('started', () => (changes.length ? true : undefined), 3000);
    assert.deepEqual(changes, [{ ok: true, message: '' }]);
    await new Promise((r) => setTimeout(r, 1300));
    assert.equal(s.runs(), 1);
  } finally {
    w.stop();
  }
});
