import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../api/object.ts';
import { RoutingTable, normalizeHost, type IngressSpec } from './routing.ts';

let n = 0;
function ingress(
  spec: IngressSpec,
  name = `ing-${++n}`,
  created = `2026-01-01T00:00:${String(n).padStart(2, '0')}Z`,
): KObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: 'default', creationTimestamp: created },
    spec,
  } as KObject;
}
const svc = (name: string, port: number | string = 80) => ({
  service: { name, port: typeof port === 'number' ? { number: port } : { name: port } },
});
const path = (p: string, pathType: string, backend: string) => ({ path: p, pathType, backend: svc(backend) });
/** A rule: host ("" = none) and its paths. */
const rule = (host: string, ...paths: ReturnType<typeof path>[]) => ({
  ...(host ? { host } : {}),
  http: { paths },
});

/** The Service name a request goes to, or "404". */
function where(t: RoutingTable, host: string, p: string): string {
  const r = t.match(host, p);
  if (!r) return '404';
  return 'backend' in r.target ? r.target.backend.service : `unsupported: ${r.target.unsupported}`;
}

test('Prefix matches by path element, ignores a trailing slash; Exact matches the whole path', () => {
  const t = new RoutingTable([
    ingress({
      rules: [
        rule(
          'a.test',
          path('/foo', 'Prefix', 'foo'),
          path('/foo/bar/', 'Prefix', 'foobar'),
          path('/exact', 'Exact', 'exact'),
        ),
      ],
    }),
  ]);
  assert.equal(where(t, 'a.test', '/foo'), 'foo');
  assert.equal(where(t, 'a.test', '/foo/'), 'foo');
  assert.equal(where(t, 'a.test', '/foo/x?y=1'), 'foo');
  assert.equal(where(t, 'a.test', '/foobar'), '404');
  assert.equal(where(t, 'a.test', '/foo/bar'), 'foobar');
  assert.equal(where(t, 'a.test', '/foo/bar/baz'), 'foobar');
  assert.equal(where(t, 'a.test', '/foo/barbaz'), 'foo');
  assert.equal(where(t, 'a.test', '/exact'), 'exact');
  assert.equal(where(t, 'a.test', '/exact/'), '404');
  assert.equal(where(t, 'a.test', '/Exact'), '404');
});

test('the longest path wins; on equal paths Exact beats Prefix; "/" catches the rest', () => {
  const t = new RoutingTable([
    ingress({
      rules: [
        rule(
          'a.test',
          path('/', 'Prefix', 'root'),
          path('/app', 'Prefix', 'prefix'),
          path('/app', 'Exact', 'exact'),
        ),
      ],
    }),
  ]);
  assert.equal(where(t, 'a.test', '/app'), 'exact');
  assert.equal(where(t, 'a.test', '/app/x'), 'prefix');
  assert.equal(where(t, 'a.test', '/other'), 'root');
  assert.equal(where(t, 'a.test', '/'), 'root');
});

test('hosts: exact beats a one-label wildcard beats host-less rules; port and case ignored', () => {
  const t = new RoutingTable([
    ingress({
      rules: [
        rule('foo.bar.test', path('/', 'Prefix', 'exact-host')),
        rule('*.bar.test', path('/', 'Prefix', 'wildcard')),
        rule('', path('/', 'Prefix', 'any')),
      ],
    }),
  ]);
  assert.equal(where(t, 'foo.bar.test', '/'), 'exact-host');
  assert.equal(where(t, 'FOO.bar.test:8080', '/'), 'exact-host');
  assert.equal(where(t, 'baz.bar.test', '/'), 'wildcard');
  assert.equal(where(t, 'a.baz.bar.test', '/'), 'any');
  assert.equal(where(t, 'bar.test', '/'), 'any');
  assert.equal(where(t, '127.0.0.1:8080', '/'), 'any');
  assert.equal(normalizeHost('[::1]:8080'), '[::1]');
});

test('a known host without a matching path falls to its Ingress default backend, then the global one', () => {
  const t = new RoutingTable([
    ingress({ defaultBackend: svc('global') }, 'old-default'),
    ingress({
      defaultBackend: svc('a-default'),
      rules: [rule('a.test', path('/x', 'Exact', 'x'))],
    }),
    ingress({ rules: [rule('b.test', path('/x', 'Exact', 'bx'))] }),
  ]);
  assert.equal(where(t, 'a.test', '/x'), 'x');
  assert.equal(where(t, 'a.test', '/y'), 'a-default');
  assert.equal(where(t, 'b.test', '/y'), 'global');
  assert.equal(where(t, 'unknown.test', '/'), 'global');
});

test('no rule and no default backend → no route', () => {
  const t = new RoutingTable([ingress({ rules: [rule('a.test', path('/', 'Prefix', 'a'))] })]);
  assert.equal(where(t, 'b.test', '/'), '404');
});

test('rules for one host merge across Ingresses; a conflict goes to the oldest', () => {
  const t = new RoutingTable([
    ingress({ rules: [rule('a.test', path('/new', 'Prefix', 'newer'))] }, 'z', '2026-02-01T00:00:00Z'),
    ingress({ rules: [rule('a.test', path('/new', 'Prefix', 'older'))] }, 'y', '2026-01-01T00:00:00Z'),
    ingress({ rules: [rule('a.test', path('/other', 'Prefix', 'other'))] }, 'x', '2026-03-01T00:00:00Z'),
  ]);
  assert.equal(where(t, 'a.test', '/new'), 'older');
  assert.equal(where(t, 'a.test', '/other'), 'other');
});

test('ports by name, and resource backends reported as unsupported', () => {
  const t = new RoutingTable([
    ingress({
      rules: [
        {
          host: 'a.test',
          http: {
            paths: [
              { path: '/named', pathType: 'ImplementationSpecific', backend: svc('web', 'http') },
              {
                path: '/bucket',
                pathType: 'Prefix',
                backend: { resource: { kind: 'StorageBucket', name: 'b' } },
              },
            ],
          },
        },
      ],
    }),
  ]);
  const r = t.match('a.test', '/named/x');
  assert.deepEqual(r?.target, { backend: { namespace: 'default', service: 'web', port: 'http' } });
  assert.equal(where(t, 'a.test', '/bucket'), 'unsupported: resource backend StorageBucket/b');
});
