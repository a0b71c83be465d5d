import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog, type AuditEvent } from './audit.ts';
import { parseRequestInfo } from './request-info.ts';

const alice = { username: 'alice', uid: 'u1', groups: ['dev', 'system:authenticated'] };

/** An HTTP server that audits like the API server: identify, then answer with `reply`. */
async function serve(
  log: AuditLog,
  reply: (path: string) => { code: number; body: unknown },
  impersonate = false,
): Promise<{ server: Server; call(method: string, path: string, body?: string): Promise<number> }> {
  const server = createServer((req, res) => {
    const audit = log.start(req, res);
    const url = new URL(req.url ?? '/', 'http://x');
    const info = parseRequestInfo(req.method ?? 'GET', url.pathname, url.searchParams);
    const annotations: Record<string, string> = {};
    audit?.identify(alice, impersonate ? { username: 'bob', groups: [] } : alice, info, annotations);
    // Admission runs after identify: what it records still reaches the event.
    if (url.pathname.endsWith('/pods'))
      annotations['pod-security.kubernetes.io/enforce-policy'] = 'baseline:latest';
    const r = reply(url.pathname);
    req.resume();
    req.on('end', () => {
      res.writeHead(r.code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(r.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    call: (method, path, body) =>
      new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, method, path }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(body);
      }),
  };
}

const events = (path: string): AuditEvent[] =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as AuditEvent);

/** The log is written when the response finishes: wait for the line count. */
async function lines(path: string, n: number): Promise<AuditEvent[]> {
  for (let i = 0; i < 100; i++) {
    if (existsSync(path) && events(path).length >= n) return events(path);
    await new Promise((r) => setTimeout(r, 10));
  }
  return existsSync(path) ? events(path) : [];
}

test('one Metadata-level event per request: user, verb, objectRef, code; never bodies; probes skipped', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-audit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const log = new AuditLog(dir);
  const secretBody = {
    kind: 'Secret',
    metadata: { name: 'db-pass' },
    data: { password: 'c2VjcmV0LXZhbHVl' },
  };
  const { server, call } = await serve(log, (p) =>
    p.endsWith('/missing') ? { code: 404, body: { kind: 'Status' } } : { code: 201, body: secretBody },
  );
  t.after(() => server.close());
  assert.equal(await call('POST', '/api/v1/namespaces/ns/secrets', JSON.stringify(secretBody)), 201);
  assert.equal(await call('GET', '/api/v1/namespaces/ns/secrets/missing'), 404);
  assert.equal(await call('GET', '/healthz'), 201);
  const evs = await lines(log.path, 2);
  assert.equal(evs.length, 2);
  const [create, get] = evs as [AuditEvent, AuditEvent];
  assert.equal(create.verb, 'create');
  assert.equal(create.level, 'Metadata');
  assert.equal(create.stage, 'ResponseComplete');
  assert.deepEqual(create.user, alice);
  assert.deepEqual(create.objectRef, {
    resource: 'secrets',
    namespace: 'ns',
    name: 'db-pass',
    apiVersion: 'v1',
  });
  assert.equal(create.responseStatus.code, 201);
  assert.deepEqual(create.sourceIPs, ['127.0.0.1']);
  assert.equal(get.verb, 'get');
  assert.equal(get.responseStatus.code, 404);
  assert.equal(get.responseStatus.status, 'Failure');
  assert.equal(create.annotations, undefined, 'no annotations: none recorded');
  const raw = readFileSync(log.path, 'utf8');
  assert.ok(!raw.includes('c2VjcmV0LXZhbHVl') && !raw.includes('secret-value'), 'no body data');
  assert.equal(await call('POST', '/api/v1/namespaces/ns/pods', '{}'), 201);
  const [, , pod] = (await lines(log.path, 3)) as AuditEvent[];
  assert.deepEqual(pod?.annotations, { 'pod-security.kubernetes.io/enforce-policy': 'baseline:latest' });
});

test('impersonation is recorded; the file rotates past maxBytes keeping maxBackups files', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-audit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const log = new AuditLog(dir, { maxBytes: 2000, maxBackups: 2 });
  const { server, call } = await serve(log, () => ({ code: 200, body: {} }), true);
  t.after(() => server.close());
  for (let i = 0; i < 20; i++) await call('GET', `/api/v1/namespaces/ns/configmaps/c${i}`);
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(existsSync(`${log.path}.1`) && existsSync(`${log.path}.2`));
  assert.ok(!existsSync(`${log.path}.3`));
  for (const f of [log.path, `${log.path}.1`, `${log.path}.2`])
    assert.ok(readFileSync(f).length <= 2000, `${f} is bounded`);
  const last = events(log.path).at(-1)!;
  assert.equal(last.objectRef?.name, 'c19');
  assert.equal(last.user.username, 'alice');
  assert.equal(last.impersonatedUser?.username, 'bob');
});
