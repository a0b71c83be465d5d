import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRequestInfo } from './request-info.ts';

const q = (s = '') => new URLSearchParams(s);

test('namespaced resource paths', () => {
  const i = parseRequestInfo('GET', '/api/v1/namespaces/default/pods/web', q());
  assert.deepEqual(
    [i.isResourceRequest, i.verb, i.apiGroup, i.apiVersion, i.namespace, i.resource, i.name, i.subresource],
    [true, 'get', '', 'v1', 'default', 'pods', 'web', ''],
  );
  const s = parseRequestInfo('POST', '/api/v1/namespaces/default/pods/web/eviction', q());
  assert.deepEqual([s.verb, s.subresource], ['create', 'eviction']);
  const l = parseRequestInfo('GET', '/apis/apps/v1/namespaces/x/deployments', q());
  assert.deepEqual([l.verb, l.apiGroup, l.resource, l.name], ['list', 'apps', 'deployments', '']);
  const w = parseRequestInfo('GET', '/apis/apps/v1/deployments', q('watch=true'));
  assert.deepEqual([w.verb, w.namespace], ['watch', '']);
  const dc = parseRequestInfo('DELETE', '/api/v1/namespaces/x/configmaps', q());
  assert.equal(dc.verb, 'deletecollection');
});

test('namespaces and their subresources', () => {
  const n = parseRequestInfo('GET', '/api/v1/namespaces/foo', q());
  assert.deepEqual([n.resource, n.name, n.namespace], ['namespaces', 'foo', '']);
  const f = parseRequestInfo('PUT', '/api/v1/namespaces/foo/finalize', q());
  assert.deepEqual([f.resource, f.name, f.subresource, f.verb], ['namespaces', 'foo', 'finalize', 'update']);
  const st = parseRequestInfo('GET', '/api/v1/namespaces/foo/status', q());
  assert.deepEqual([st.resource, st.name, st.subresource], ['namespaces', 'foo', 'status']);
  const all = parseRequestInfo('GET', '/api/v1/namespaces', q());
  assert.deepEqual([all.resource, all.verb], ['namespaces', 'list']);
});

test('discovery and other paths are non-resource requests', () => {
  for (const p of [
    '/api',
    '/apis',
    '/api/v1',
    '/apis/apps',
    '/apis/apps/v1',
    '/version',
    '/healthz',
    '/openapi/v3',
  ]) {
    assert.equal(parseRequestInfo('GET', p, q()).isResourceRequest, false, p);
  }
});
