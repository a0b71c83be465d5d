import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import type { Attributes, UserInfo } from '../types.ts';
import { resourceAttributes, type ResourceTarget } from '../attributes.ts';
import { RbacAuthorizer } from './authorizer.ts';
import { aggregateAll } from './aggregation.ts';
import { defaultClusterRoleBindings, defaultClusterRoles } from './bootstrap-policy.ts';
import { escalationProblem } from './escalation.ts';
import { compactRules, compactString, ruleAllows, uncoveredRules } from './rules.ts';

const res = (user: UserInfo, verb: string, resource: string, o: ResourceTarget = {}): Attributes =>
  resourceAttributes(user, verb, resource, o);
const url = (user: UserInfo, verb: string, path: string): Attributes => ({
  ...res(user, verb, ''),
  resourceRequest: false,
  path,
});
const u = (username: string, ...groups: string[]): UserInfo => ({
  username,
  groups: [...groups, 'system:authenticated'],
});

/** An authorizer holding the default policy (aggregated) plus `extra` objects. */
function withDefaults(extra: KObject[] = []): RbacAuthorizer {
  const rbac = new RbacAuthorizer();
  const roles = [...defaultClusterRoles(), ...extra.filter((o) => o.kind === 'ClusterRole')];
  aggregateAll(roles);
  for (const r of roles) rbac.apply('ClusterRole', 'ADDED', r);
  for (const b of defaultClusterRoleBindings()) rbac.apply('ClusterRoleBinding', 'ADDED', b);
  for (const o of extra) if (o.kind !== 'ClusterRole') rbac.apply(o.kind ?? '', 'ADDED', o);
  return rbac;
}

const roleBinding = (ns: string, name: string, kind: string, role: string, subjects: KObject[]): KObject =>
  ({
    kind: 'RoleBinding',
    metadata: { namespace: ns, name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind, name: role },
    subjects,
  }) as unknown as KObject;

test('rule matching: verbs, groups, resources, subresources, names, URLs', () => {
  const a = u('a');
  const r = { verbs: ['get'], apiGroups: [''], resources: ['pods'] };
  assert.ok(ruleAllows(res(a, 'get', 'pods'), r));
  assert.ok(!ruleAllows(res(a, 'list', 'pods'), r));
  assert.ok(!ruleAllows(res(a, 'get', 'pods', { group: 'apps' }), r));
  assert.ok(!ruleAllows(res(a, 'get', 'pods', { sub: 'log' }), r), 'pods does not grant pods/log');
  const star = { verbs: ['*'], apiGroups: ['*'], resources: ['*'] };
  assert.ok(ruleAllows(res(a, 'escalate', 'roles', { group: 'rbac.authorization.k8s.io', sub: 'x' }), star));
  const scale = { verbs: ['update'], apiGroups: ['apps'], resources: ['*/scale'] };
  assert.ok(ruleAllows(res(a, 'update', 'deployments', { group: 'apps', sub: 'scale' }), scale));
  assert.ok(!ruleAllows(res(a, 'update', 'deployments', { group: 'apps' }), scale));
  assert.ok(!ruleAllows(res(a, 'update', 'deployments', { group: 'apps', sub: 'status' }), scale));
  const named = { verbs: ['get', 'list'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['x'] };
  assert.ok(ruleAllows(res(a, 'get', 'configmaps', { name: 'x' }), named));
  assert.ok(!ruleAllows(res(a, 'get', 'configmaps', { name: 'y' }), named));
  assert.ok(!ruleAllows(res(a, 'list', 'configmaps'), named), 'list has no name');
  const urls = { verbs: ['get'], nonResourceURLs: ['/healthz', '/logs/*'] };
  assert.ok(ruleAllows(url(a, 'get', '/healthz'), urls));
  assert.ok(!ruleAllows(url(a, 'get', '/healthz/ping'), urls));
  assert.ok(ruleAllows(url(a, 'get', '/logs/a/b'), urls));
  assert.ok(!ruleAllows(url(a, 'post', '/logs/a'), urls));
  assert.ok(!ruleAllows(res(a, 'get', 'pods'), urls), 'URL rules grant no resources');
});

test('default roles: view excludes secrets, edit reads them, admin manages RBAC, aggregation', () => {
  const rbac = withDefaults([
    roleBinding('foo', 'v', 'ClusterRole', 'view', [{ kind: 'User', name: 'viewer' } as unknown as KObject]),
    roleBinding('foo', 'e', 'ClusterRole', 'edit', [{ kind: 'User', name: 'editor' } as unknown as KObject]),
    roleBinding('foo', 'a', 'ClusterRole', 'admin', [
      { kind: 'Group', name: 'admins' } as unknown as KObject,
    ]),
  ]);
  const can = (a: Attributes): boolean => rbac.authorize(a).decision === 'allow';
  const viewer = u('viewer');
  const editor = u('editor');
  const admin = u('someone', 'admins');
  assert.ok(can(res(viewer, 'list', 'pods', { ns: 'foo' })));
  assert.ok(!can(res(viewer, 'list', 'pods', { ns: 'bar' })));
  assert.ok(!can(res(viewer, 'get', 'secrets', { ns: 'foo' })));
  assert.ok(can(res(viewer, 'get', 'deployments', { ns: 'foo', group: 'apps', sub: 'scale' })));
  assert.ok(!can(res(viewer, 'create', 'pods', { ns: 'foo' })));
  assert.ok(can(res(editor, 'get', 'secrets', { ns: 'foo' })));
  assert.ok(can(res(editor, 'create', 'pods', { ns: 'foo', sub: 'exec' })));
  assert.ok(can(res(editor, 'create', 'serviceaccounts', { ns: 'foo', sub: 'token', name: 'default' })));
  assert.ok(!can(res(editor, 'create', 'rolebindings', { ns: 'foo', group: 'rbac.authorization.k8s.io' })));
  assert.ok(can(res(admin, 'create', 'rolebindings', { ns: 'foo', group: 'rbac.authorization.k8s.io' })));
  assert.ok(can(res(admin, 'list', 'pods', { ns: 'foo' })), 'admin aggregates edit and view');
  assert.ok(!can(res(admin, 'list', 'nodes')), 'a RoleBinding grants nothing cluster-wide');
  // Everyone authenticated: discovery, health, self reviews.
  assert.ok(can(url(viewer, 'get', '/apis/apps/v1')));
  assert.ok(can(res(viewer, 'create', 'selfsubjectaccessreviews', { group: 'authorization.k8s.io' })));
  const anon = { username: 'system:anonymous', groups: ['system:unauthenticated'] };
  assert.ok(can(url(anon, 'get', '/version')));
  assert.ok(!can(url(anon, 'get', '/api')));
});

test('service-account subjects, missing roles give the RBAC reason, deletes take effect', () => {
  const rbac = withDefaults([
    {
      kind: 'Role',
      metadata: { namespace: 'foo', name: 'service-reader' },
      rules: [{ verbs: ['get', 'watch', 'list'], apiGroups: [''], resources: ['services'] }],
    } as unknown as KObject,
    roleBinding('foo', 'test', 'Role', 'service-reader', [
      { kind: 'ServiceAccount', name: 'default' } as unknown as KObject,
    ]),
    roleBinding('foo', 'broken', 'ClusterRole', 'nope', [{ kind: 'User', name: 'x' } as unknown as KObject]),
  ]);
  const sa = {
    username: 'system:serviceaccount:foo:default',
    groups: ['system:serviceaccounts', 'system:serviceaccounts:foo', 'system:authenticated'],
  };
  assert.equal(rbac.authorize(res(sa, 'list', 'services', { ns: 'foo' })).decision, 'allow');
  assert.equal(rbac.authorize(res(sa, 'list', 'services', { ns: 'bar' })).decision, 'noOpinion');
  assert.deepEqual(rbac.authorize(res(u('x'), 'get', 'pods', { ns: 'foo' })), {
    decision: 'noOpinion',
    reason: 'RBAC: clusterrole.rbac.authorization.k8s.io "nope" not found',
  });
  rbac.apply('RoleBinding', 'DELETED', roleBinding('foo', 'test', 'Role', 'service-reader', []));
  assert.equal(rbac.authorize(res(sa, 'list', 'services', { ns: 'foo' })).decision, 'noOpinion');
});

test('escalation: missing permissions listed as kube-apiserver lists them', () => {
  const rbac = withDefaults([
    roleBinding('foo', 'e', 'ClusterRole', 'edit', [{ kind: 'User', name: 'ed' } as unknown as KObject]),
  ]);
  const ed = u('ed', 'dev');
  const admin = rbac.roleRefRules({ kind: 'ClusterRole', name: 'admin' }, 'foo');
  assert.ok(Array.isArray(admin));
  const why = escalationProblem(rbac, ed, 'foo', admin);
  assert.equal(
    why,
    'user "ed" (groups=["dev" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n' +
      '{APIGroups:["authorization.k8s.io"], Resources:["localsubjectaccessreviews"], Verbs:["create"]}\n' +
      '{APIGroups:["rbac.authorization.k8s.io"], Resources:["rolebindings"], Verbs:["create" "delete" "deletecollection" "get" "list" "patch" "update" "watch"]}\n' +
      '{APIGroups:["rbac.authorization.k8s.io"], Resources:["roles"], Verbs:["create" "delete" "deletecollection" "get" "list" "patch" "update" "watch"]}',
  );
  const edit = rbac.roleRefRules({ kind: 'ClusterRole', name: 'edit' }, 'foo');
  assert.ok(Array.isArray(edit));
  assert.equal(escalationProblem(rbac, ed, 'foo', edit), undefined);
  assert.notEqual(escalationProblem(rbac, ed, '', edit), undefined, 'edit in foo is not edit cluster-wide');
  assert.deepEqual(
    uncoveredRules(
      [{ verbs: ['*'], apiGroups: ['apps'], resources: ['*/scale'] }],
      [{ verbs: ['update'], apiGroups: ['apps'], resources: ['deployments/scale', 'deployments'] }],
    ),
    [{ verbs: ['update'], apiGroups: ['apps'], resources: ['deployments'] }],
  );
  assert.equal(
    compactRules([
      { verbs: ['get'], apiGroups: [''], resources: ['a'] },
      { verbs: ['list'], apiGroups: [''], resources: ['a'] },
    ]).map(compactString)[0],
    '{APIGroups:[""], Resources:["a"], Verbs:["get" "list"]}',
  );
});

test('micro-benchmark: checks cost the rules of the subject, not of the cluster', () => {
  const extra: KObject[] = [];
  for (let i = 0; i < 2000; i++)
    extra.push(
      roleBinding(`ns-${i % 200}`, `rb-${i}`, 'ClusterRole', 'edit', [
        { kind: 'User', name: `user-${i}` } as unknown as KObject,
      ]),
    );
  const t0 = performance.now();
  const rbac = withDefaults(extra);
  const buildMs = performance.now() - t0;
  const cases: [string, Attributes][] = [
    [
      'cluster-admin group (first rule)',
      res(u('berth-admin', 'berth:cluster-admins'), 'list', 'pods', { ns: 'ns-1' }),
    ],
    ['edit user, allowed', res(u('user-7'), 'update', 'deployments', { ns: 'ns-7', group: 'apps' })],
    [
      'edit user, denied',
      res(u('user-7'), 'create', 'roles', { ns: 'ns-7', group: 'rbac.authorization.k8s.io' }),
    ],
    ['unbound user, denied', res(u('nobody'), 'get', 'pods', { ns: 'ns-1' })],
  ];
  const n = 100_000;
  const lines = [`index of ${extra.length} RoleBindings + defaults built in ${buildMs.toFixed(1)} ms`];
  for (const [label, a] of cases) {
    const s = performance.now();
    for (let i = 0; i < n; i++) rbac.authorize(a);
    const us = ((performance.now() - s) * 1000) / n;
    lines.push(`${label}: ${us.toFixed(2)} µs/check`);
    assert.ok(us < 200, `${label} took ${us} µs per check`);
  }
  console.log(lines.join('\n'));
});
