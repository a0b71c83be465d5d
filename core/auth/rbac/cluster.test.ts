import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KObject } from '../../api/object.ts';
import { StatusError } from '../../api/status.ts';
import { InProcessClient, type ResourceRef } from '../../client/in-process.ts';
import { startCluster, type RunningCluster } from '../../cluster/cluster.ts';
import { waitFor } from '../../testing/wait.ts';
import type { PolicyRule } from './rules.ts';

const G = 'rbac.authorization.k8s.io';
const CR: ResourceRef = { group: G, version: 'v1', resource: 'clusterroles' };
const CRB: ResourceRef = { group: G, version: 'v1', resource: 'clusterrolebindings' };
const ROLES: ResourceRef = { group: G, version: 'v1', resource: 'roles' };
const RB: ResourceRef = { group: G, version: 'v1', resource: 'rolebindings' };
const NS: ResourceRef = { group: '', version: 'v1', resource: 'namespaces' };
const NODES: ResourceRef = { group: '', version: 'v1', resource: 'nodes' };

let dir: string;
let cluster: RunningCluster;
let admin: InProcessClient;

const as = (username: string, ...groups: string[]): InProcessClient =>
  new InProcessClient(cluster.server, { username, groups: [...groups, 'system:authenticated'] });
const obj = (o: Record<string, unknown>): KObject => o as unknown as KObject;
const binding = (name: string, kind: string, role: string, user: string): KObject =>
  obj({
    apiVersion: `${G}/v1`,
    kind: 'RoleBinding',
    metadata: { name },
    roleRef: { apiGroup: G, kind, name: role },
    subjects: [{ kind: 'User', apiGroup: G, name: user }],
  });
const role = (name: string, rules: PolicyRule[]): KObject =>
  obj({ apiVersion: `${G}/v1`, kind: 'Role', metadata: { name }, rules });
const refuses = (fn: () => unknown, code: number, message?: RegExp | string): void => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof StatusError, String(e));
    assert.equal(e.code, code, e.message);
    if (typeof message === 'string') assert.equal(e.message, message);
    else if (message) assert.match(e.message, message);
    return;
  }
  assert.fail('expected a refusal');
};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-rbac-'));
  writeFileSync(join(dir, 'tokens.csv'), 'tok-carol,carol,u-carol,"dev"\n', { mode: 0o600 });
  cluster = await startCluster({ dataDir: dir, apiPort: 0, disableScheduler: true });
  admin = as('berth-admin', 'berth:cluster-admins');
  admin.create(NS, '', obj({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'foo' } }));
});
after(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the default policy is in the store, aggregated', () => {
  const adminRole = admin.get(CR, '', 'admin');
  const rules = (adminRole['rules'] ?? []) as PolicyRule[];
  assert.ok(rules.some((r) => r.resources?.includes('rolebindings')));
  assert.ok(rules.some((r) => r.resources?.includes('pods') && r.verbs.includes('list')));
  const b = admin.get(CRB, '', 'berth:cluster-admins');
  assert.deepEqual(b['roleRef'], { apiGroup: G, kind: 'ClusterRole', name: 'cluster-admin' });
  assert.equal(adminRole.metadata.labels?.['kubernetes.io/bootstrapping'], 'rbac-defaults');
});

test('the aggregation controller folds labelled ClusterRoles into view, edit and admin', async () => {
  admin.create(
    CR,
    '',
    obj({
      apiVersion: `${G}/v1`,
      kind: 'ClusterRole',
      metadata: { name: 'widgets-view', labels: { [`${G}/aggregate-to-view`]: 'true' } },
      rules: [{ verbs: ['get', 'list'], apiGroups: ['example.com'], resources: ['widgets'] }],
    }),
  );
  const has = (role: string) => () =>
    ((admin.get(CR, '', role)['rules'] ?? []) as PolicyRule[]).some((r) => r.resources?.includes('widgets'));
  await waitFor('view aggregates widgets', has('view'));
  await waitFor('admin aggregates widgets (through edit)', has('admin'));
  admin.delete(CR, '', 'widgets-view');
  await waitFor('view drops widgets', () => !has('view')());
});

test('escalation: edit cannot bind admin without holding it or `bind`', async () => {
  admin.create(RB, 'foo', binding('ed-edit', 'ClusterRole', 'edit', 'ed'));
  admin.create(
    ROLES,
    'foo',
    role('binder', [{ verbs: ['create', 'get'], apiGroups: [G], resources: ['rolebindings', 'roles'] }]),
  );
  admin.create(RB, 'foo', binding('ed-binder', 'Role', 'binder', 'ed'));
  const ed = as('ed', 'dev');
  await waitFor('bindings seen', () => {
    try {
      ed.get(RB, 'foo', 'ed-edit');
      return true;
    } catch {
      return false;
    }
  });
  refuses(
    () => ed.create(RB, 'foo', binding('ed-admin', 'ClusterRole', 'admin', 'ed')),
    403,
    /^rolebindings\.rbac\.authorization\.k8s\.io "ed-admin" is forbidden: user "ed" \(groups=\["dev" "system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:\n\{APIGroups:\["authorization\.k8s\.io"\], Resources:\["localsubjectaccessreviews"\], Verbs:\["create"\]\}\n/,
  );
  // edit → binding edit (held) is fine; a Role granting secrets/delete only if held.
  ed.create(RB, 'foo', binding('ed-edit-2', 'ClusterRole', 'edit', 'someone'));
  refuses(
    () =>
      ed.create(ROLES, 'foo', role('too-much', [{ verbs: ['get'], apiGroups: [''], resources: ['nodes'] }])),
    403,
    /roles\.rbac\.authorization\.k8s\.io "too-much" is forbidden: .*\n\{APIGroups:\[""\], Resources:\["nodes"\], Verbs:\["get"\]\}$/,
  );
  refuses(
    () =>
      ed.create(CRB, '', obj({ ...binding('x', 'ClusterRole', 'view', 'ed'), kind: 'ClusterRoleBinding' })),
    403,
    'clusterrolebindings.rbac.authorization.k8s.io is forbidden: User "ed" cannot create resource "clusterrolebindings" in API group "rbac.authorization.k8s.io" at the cluster scope',
  );
  // With `bind` on the admin ClusterRole, the binding is allowed.
  admin.create(
    ROLES,
    'foo',
    role('bind-admin', [
      { verbs: ['bind'], apiGroups: [G], resources: ['clusterroles'], resourceNames: ['admin'] },
    ]),
  );
  admin.create(RB, 'foo', binding('ed-bind-admin', 'Role', 'bind-admin', 'ed'));
  await waitFor('bind granted', () => {
    try {
      ed.create(RB, 'foo', binding('ed-admin', 'ClusterRole', 'admin', 'ed'));
      return true;
    } catch {
      return false;
    }
  });
  // …and now ed holds admin in foo, so may write Roles granting what admin grants.
  await waitFor('admin held', () => {
    try {
      ed.create(
        ROLES,
        'foo',
        role('lsar', [
          {
            verbs: ['create'],
            apiGroups: ['authorization.k8s.io'],
            resources: ['localsubjectaccessreviews'],
          },
        ]),
      );
      return true;
    } catch {
      return false;
    }
  });
});

test('NodeRestriction: a node writes only its own Node', () => {
  const n1 = as('system:node:n1', 'system:nodes');
  const node = (name: string) => obj({ apiVersion: 'v1', kind: 'Node', metadata: { name } });
  n1.create(NODES, '', node('n1'));
  refuses(
    () => n1.create(NODES, '', node('n2')),
    403,
    'nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"',
  );
});

test('TokenReview answers for the API server audiences', async () => {
  // What the HTTP handler calls for POST …/tokenreviews (the in-process client has no virtual kinds).
  const served = cluster.server.table.lookup('authentication.k8s.io', 'v1', 'tokenreviews');
  assert.ok(served?.strategy.virtualCreate);
  const review = async (token: string, audiences?: string[]) =>
    (
      await served.strategy.virtualCreate!(
        obj({
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenReview',
          metadata: {},
          spec: { token, audiences },
        }),
        cluster.server.context(admin.user),
      )
    )['status'] as {
      authenticated?: boolean;
      user?: { username?: string; groups?: string[] };
      error?: string;
    };
  const ok = await review('tok-carol');
  assert.equal(ok.authenticated, true);
  assert.equal(ok.user?.username, 'carol');
  assert.deepEqual(ok.user?.groups, ['dev', 'system:authenticated']);
  const bad = await review('nope');
  assert.equal(bad.authenticated, undefined);
  assert.match(bad.error ?? '', /invalid bearer token/);
  assert.equal((await review('tok-carol', ['vault'])).authenticated, undefined);
  // Only those granted tokenreviews create (e.g. system:auth-delegator) may ask.
  const may = (user: string, ...groups: string[]) =>
    cluster.server.opts.authorizer.authorize({
      user: { username: user, groups: [...groups, 'system:authenticated'] },
      verb: 'create',
      resourceRequest: true,
      apiGroup: 'authentication.k8s.io',
      apiVersion: 'v1',
      resource: 'tokenreviews',
      subresource: '',
      namespace: '',
      name: '',
      path: '',
    }).decision;
  assert.equal(may('carol', 'dev'), 'noOpinion');
  assert.equal(may('berth-admin', 'berth:cluster-admins'), 'allow');
});

test('a deleted default binding is restored at the next start', async () => {
  admin.delete(CRB, '', 'system:basic-user');
  await cluster.stop();
  cluster = await startCluster({ dataDir: dir, apiPort: 0, disableScheduler: true });
  admin = as('berth-admin', 'berth:cluster-admins');
  assert.deepEqual(admin.get(CRB, '', 'system:basic-user')['subjects'], [
    { kind: 'Group', apiGroup: G, name: 'system:authenticated' },
  ]);
});
