import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import type { UserInfo } from '../types.ts';
import { resourceAttributes, type ResourceTarget } from '../attributes.ts';
import { RbacAuthorizer, type Subject } from './authorizer.ts';
import { aggregateAll } from './aggregation.ts';
import { defaultClusterRoleBindings, defaultClusterRoles } from './bootstrap-policy.ts';
import { explain, grantText, matchingSubjects } from './explain.ts';

const u = (username: string, ...groups: string[]): UserInfo => ({
  username,
  groups: [...groups, 'system:authenticated'],
});
const obj = (o: Record<string, unknown>): KObject => o as unknown as KObject;
const binding = (
  kind: 'RoleBinding' | 'ClusterRoleBinding',
  ns: string,
  name: string,
  roleKind: string,
  role: string,
  subjects: Subject[],
): KObject =>
  obj({
    kind,
    metadata: { ...(ns ? { namespace: ns } : {}), name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name: role },
    subjects,
  });

/** The default policy (aggregated) plus the objects given. */
function authorizer(extra: KObject[]): RbacAuthorizer {
  const rbac = new RbacAuthorizer();
  const roles = [...defaultClusterRoles(), ...extra.filter((o) => o.kind === 'ClusterRole')];
  aggregateAll(roles);
  for (const r of roles) rbac.apply('ClusterRole', 'ADDED', r);
  for (const b of defaultClusterRoleBindings()) rbac.apply('ClusterRoleBinding', 'ADDED', b);
  for (const o of extra) if (o.kind !== 'ClusterRole') rbac.apply(o.kind ?? '', 'ADDED', o);
  return rbac;
}

const POLICY = [
  binding('RoleBinding', 'default', 'alice-view', 'ClusterRole', 'view', [{ kind: 'User', name: 'alice' }]),
  binding('ClusterRoleBinding', '', 'readers', 'ClusterRole', 'pod-reader', [
    { kind: 'Group', name: 'readers' },
  ]),
  obj({
    kind: 'ClusterRole',
    metadata: { name: 'pod-reader' },
    rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }],
  }),
  obj({
    kind: 'Role',
    metadata: { namespace: 'default', name: 'exec' },
    rules: [{ verbs: ['create'], apiGroups: [''], resources: ['pods/exec'] }],
  }),
  binding('RoleBinding', 'default', 'bot-exec', 'Role', 'exec', [{ kind: 'ServiceAccount', name: 'bot' }]),
  binding('RoleBinding', 'default', 'dangling', 'ClusterRole', 'no-such-role', [
    { kind: 'User', name: 'carol' },
  ]),
];

const ask = (user: UserInfo, verb: string, resource: string, o: ResourceTarget = {}) =>
  resourceAttributes(user, verb, resource, { ns: 'default', ...o });

test('a RoleBinding to the view ClusterRole: get/list/watch pods granted by it, secrets not', () => {
  const rbac = authorizer(POLICY);
  const alice = u('alice');
  for (const verb of ['get', 'list', 'watch']) {
    const e = explain(rbac, ask(alice, verb, 'pods'));
    assert.equal(e.allowed, true, verb);
    assert.deepEqual(
      e.grants.map((g) => grantText(g)),
      ['RoleBinding default/alice-view → ClusterRole view'],
    );
    assert.ok(e.grants[0]!.rule.verbs.includes(verb));
    assert.ok(e.grants[0]!.rule.resources?.includes('pods'));
  }
  for (const verb of ['create', 'delete', 'deletecollection', 'patch', 'update'])
    assert.equal(explain(rbac, ask(alice, verb, 'pods')).allowed, false, verb);
  const secrets = explain(rbac, ask(alice, 'get', 'secrets'));
  assert.deepEqual(secrets, { allowed: false, grants: [], errors: [] });
  assert.equal(explain(rbac, ask(alice, 'get', 'pods', { ns: 'kube-system' })).allowed, false);
  assert.equal(explain(rbac, ask(alice, 'create', 'pods', { sub: 'exec' })).allowed, false);
});

test('every granting binding is named, cluster-wide first; a Role carries its namespace', () => {
  const rbac = authorizer(POLICY);
  const both = explain(rbac, ask(u('alice', 'readers'), 'get', 'pods'));
  assert.deepEqual(
    both.grants.map((g) => grantText(g)),
    [
      'ClusterRoleBinding readers → ClusterRole pod-reader',
      'RoleBinding default/alice-view → ClusterRole view',
    ],
  );
  const bot = u(
    'system:serviceaccount:default:bot',
    'system:serviceaccounts',
    'system:serviceaccounts:default',
  );
  const exec = explain(rbac, ask(bot, 'create', 'pods', { sub: 'exec', name: 'web' }));
  assert.equal(exec.allowed, true);
  assert.deepEqual(exec.grants[0]?.role, { kind: 'Role', name: 'exec', namespace: 'default' });
  assert.equal(grantText(exec.grants[0]!), 'RoleBinding default/bot-exec → Role default/exec');
  assert.equal(explain(rbac, ask(bot, 'create', 'pods', { sub: 'exec', ns: 'other' })).allowed, false);
});

test('a binding to a missing role is reported, and grants nothing', () => {
  const e = explain(authorizer(POLICY), ask(u('carol'), 'get', 'pods'));
  assert.equal(e.allowed, false);
  assert.deepEqual(e.errors, ['clusterrole.rbac.authorization.k8s.io "no-such-role" not found']);
});

test('explanations agree with the decision for every verb × resource × user', () => {
  const rbac = authorizer(POLICY);
  const users = [
    u('alice'),
    u('alice', 'readers'),
    u('carol'),
    u('nobody'),
    u('system:serviceaccount:default:bot', 'system:serviceaccounts'),
    u('x', 'system:masters'),
  ];
  const resources: [string, string, string][] = [
    ['', 'pods', ''],
    ['', 'pods', 'log'],
    ['', 'pods', 'exec'],
    ['', 'secrets', ''],
    ['', 'configmaps', ''],
    ['apps', 'deployments', ''],
    ['apps', 'deployments', 'scale'],
    ['batch', 'jobs', ''],
    ['rbac.authorization.k8s.io', 'rolebindings', ''],
  ];
  const verbs = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
  let allowed = 0;
  for (const user of users)
    for (const [group, resource, sub] of resources)
      for (const verb of verbs)
        for (const ns of ['default', 'other', '']) {
          const a = resourceAttributes(user, verb, resource, { group, sub, ns });
          const e = explain(rbac, a);
          assert.equal(e.allowed, rbac.authorize(a).decision === 'allow');
          assert.equal(e.grants.length > 0, e.allowed, `${user.username} ${verb} ${resource} ${ns}`);
          if (e.allowed) allowed++;
        }
  assert.ok(allowed > 50, `some requests are allowed (${allowed})`);
});

test('matchingSubjects: users, groups and service accounts (namespace defaults to the binding’s)', () => {
  const subjects: Subject[] = [
    { kind: 'User', name: 'alice' },
    { kind: 'Group', name: 'readers' },
    { kind: 'ServiceAccount', name: 'bot' },
    { kind: 'ServiceAccount', name: 'bot', namespace: 'other' },
  ];
  assert.deepEqual(matchingSubjects(subjects, 'default', u('alice')), [subjects[0]]);
  assert.deepEqual(matchingSubjects(subjects, 'default', u('bob', 'readers')), [subjects[1]]);
  assert.deepEqual(matchingSubjects(subjects, 'default', u('system:serviceaccount:default:bot')), [
    subjects[2],
  ]);
  assert.deepEqual(matchingSubjects(subjects, 'default', u('system:serviceaccount:other:bot')), [
    subjects[3],
  ]);
  assert.deepEqual(matchingSubjects(subjects, '', u('system:serviceaccount:default:bot')), []);
});
