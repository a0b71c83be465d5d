import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../electron/contract.ts';
import {
  RBAC_KINDS,
  bindingSubject,
  rbacKindOf,
  refText,
  roleRefOf,
  ruleCells,
  subjectListText,
  targetOf,
} from './rbac-kinds.ts';

const obj = (o: Record<string, unknown>): KubeObject => o as unknown as KubeObject;

const binding = obj({
  metadata: { name: 'alice-view', namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z' },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
  subjects: [
    { kind: 'User', name: 'alice' },
    { kind: 'ServiceAccount', name: 'builder' },
    { kind: 'ServiceAccount', name: 'deployer', namespace: 'ci' },
    { kind: 'Group', name: 'devs' },
  ],
});

test("a binding's role: a Role lives in the binding's namespace, a ClusterRole has none", () => {
  assert.deepEqual(roleRefOf(binding), { kind: 'ClusterRole', name: 'view' });
  const local = obj({ metadata: { name: 'b', namespace: 'ns1' }, roleRef: { kind: 'Role', name: 'r' } });
  assert.deepEqual(roleRefOf(local), { kind: 'Role', name: 'r', namespace: 'ns1' });
  assert.equal(roleRefOf(obj({ metadata: { name: 'x' }, roleRef: { kind: 'Other', name: 'r' } })), undefined);
  assert.equal(
    refText({ kind: 'RoleBinding', name: 'alice-view', namespace: 'default' }),
    'RoleBinding default/alice-view',
  );
  assert.equal(refText({ kind: 'ClusterRole', name: 'view' }), 'ClusterRole view');
});

test("a binding's subjects as view-as subjects (service accounts default to the binding's namespace)", () => {
  assert.equal(
    subjectListText(binding),
    'User alice, ServiceAccount builder, ServiceAccount ci/deployer, Group devs',
  );
  assert.deepEqual(bindingSubject({ kind: 'User', name: 'alice' }), { kind: 'User', name: 'alice' });
  assert.deepEqual(bindingSubject({ kind: 'ServiceAccount', name: 'builder' }, 'default'), {
    kind: 'ServiceAccount',
    namespace: 'default',
    name: 'builder',
  });
  assert.deepEqual(bindingSubject({ kind: 'ServiceAccount', name: 'd', namespace: 'ci' }, 'default'), {
    kind: 'ServiceAccount',
    namespace: 'ci',
    name: 'd',
  });
  assert.equal(bindingSubject({ kind: 'ServiceAccount', name: 'orphan' }), undefined);
  assert.equal(bindingSubject({ kind: 'Robot', name: 'r' }), undefined);
});

test('rules read as table cells: core group, names that limit a rule, non-resource URLs', () => {
  assert.deepEqual(
    ruleCells({ apiGroups: ['', 'apps'], resources: ['pods', 'deployments'], verbs: ['get', 'list'] }),
    { apiGroups: 'core, apps', applies: 'pods, deployments', verbs: 'get, list' },
  );
  assert.deepEqual(ruleCells({ nonResourceURLs: ['/healthz', '/version'], verbs: ['get'] }), {
    apiGroups: '',
    applies: '/healthz, /version',
    verbs: 'get',
  });
  assert.equal(
    ruleCells({ apiGroups: [''], resources: ['configmaps'], resourceNames: ['a', 'b'], verbs: ['*'] })
      .applies,
    'configmaps (only a, b)',
  );
});

test('tables: binding rows name their role and subjects; targets keep the namespace only when namespaced', () => {
  const cells = RBAC_KINDS.rolebindings.columns.map((c) =>
    c.cell(binding, Date.parse('2026-01-01T00:01:00Z')),
  );
  assert.deepEqual(cells, [
    'alice-view',
    'default',
    'ClusterRole/view',
    'User alice, ServiceAccount builder, ServiceAccount ci/deployer, Group devs',
    '60s',
  ]);
  assert.deepEqual(
    RBAC_KINDS.clusterrolebindings.columns.map((c) => c.title),
    ['Name', 'Role', 'Subjects', 'Age'],
  );
  const role = obj({ metadata: { name: 'view' }, rules: [{ verbs: ['get'] }, { verbs: ['list'] }] });
  assert.equal(RBAC_KINDS.clusterroles.columns.find((c) => c.title === 'Rules')?.cell(role, 0), '2');
  assert.deepEqual(targetOf(RBAC_KINDS.rolebindings, binding), {
    kind: 'RoleBinding',
    name: 'alice-view',
    namespace: 'default',
  });
  assert.deepEqual(targetOf(RBAC_KINDS.clusterroles, role), { kind: 'ClusterRole', name: 'view' });
  assert.equal(rbacKindOf('ServiceAccount').ref.resource, 'serviceaccounts');
  assert.equal(rbacKindOf('ClusterRoleBinding').namespaced, false);
});
