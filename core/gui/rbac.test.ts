/**
 * The GUI's RBAC services against a real cluster (simulated node): users with `berth user` semantics,
 * the "view as" matrix (SubjectAccessReviews explained by the RBAC authorizer), and "view as" mode
 * (impersonation on every request: lists re-read as the subject, exec refused by the API server).
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { KubeConfig } from '@kubernetes/client-node';
import { startGuiServiceFixture, type GuiServiceFixture } from '../testing/gui-service-fixture.ts';
import { waitFor } from '../testing/wait.ts';
import type { GuiSession } from './service.ts';
import { KubeApiError, KubeClient } from './kube-client.ts';
import type { AccessMatrix, EventMessage, WatchBatchMessage, WatchEvent } from './contract.ts';
import { bindingName } from './rbac-users.ts';

const PODS = { group: '', version: 'v1', resource: 'pods' };
const SECRETS = { group: '', version: 'v1', resource: 'secrets' };

function cell(m: AccessMatrix, label: string, verb: string) {
  const row = m.rows.find((r) => r.label === label);
  const c = row?.cells.find((x) => x.verb === verb);
  assert.ok(c, `cell ${label} ${verb}`);
  return c;
}

async function rejection(p: Promise<unknown>): Promise<Error & { contractError?: { code?: number } }> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  assert.fail('expected a rejection');
}

describe('GUI RBAC services', () => {
  let session: GuiSession;
  let id: string;
  let events: EventMessage[];
  let fixture: GuiServiceFixture | undefined;

  before(async () => {
    fixture = await startGuiServiceFixture('berth-gui-rbac');
    ({ session, events } = fixture);
    id = (await session.call('clusters.list', {}))[0]!.id;
    await session.call('resources.apply', {
      cluster: id,
      yaml: `apiVersion: v1
kind: Pod
metadata: { name: web, namespace: default }
spec: { containers: [{ name: c, image: registry.berth.test/x:1 }] }
---
apiVersion: v1
kind: Secret
metadata: { name: s, namespace: default }
stringData: { k: v }
`,
    });
  });
  after(async () => {
    await fixture?.stop();
  });

  test('users: create with a RoleBinding to view, list, kubeconfig works with its certificate', async () => {
    const r = await session.call('users.create', {
      cluster: id,
      name: 'alice',
      groups: ['devs'],
      binding: { clusterRole: 'view', namespace: 'default' },
    });
    assert.deepEqual(r.binding, { kind: 'RoleBinding', name: 'alice-view', namespace: 'default' });
    assert.deepEqual([r.user.name, r.user.groups, r.user.revoked], ['alice', ['devs'], false]);
    const users = await session.call('users.list', { cluster: id });
    assert.deepEqual(
      users.map((u) => u.name),
      ['alice'],
    );
    const created = Date.parse(users[0]?.created ?? '');
    assert.ok(
      Math.abs(Date.now() - created) < 60_000,
      `created is when the user was issued: ${users[0]?.created}`,
    );
    const k = await session.call('users.kubeconfig', { cluster: id, name: 'alice' });
    assert.equal(k.fileName, 'alice.kubeconfig');
    const kc = new KubeConfig();
    kc.loadFromString(k.yaml);
    const alice = new KubeClient(kc);
    const pods = await alice.list(PODS, 'default');
    assert.deepEqual(
      pods.items.map((p) => p.metadata.name),
      ['web'],
    );
    const denied = await rejection(alice.list(SECRETS, 'default'));
    assert.ok(denied instanceof KubeApiError && denied.code === 403, String(denied));
    await assert.rejects(
      session.call('users.create', { cluster: id, name: '../evil', groups: [] }),
      /invalid user name/,
    );
    await assert.rejects(
      session.call('users.create', { cluster: id, name: 'mallory', groups: ['system:masters'] }),
      /never issues/,
    );
    assert.equal(bindingName('Bob_Smith@corp', 'view'), 'bob-smith-corp-view');
  });

  test('matrix: get/list/watch pods granted by RoleBinding default/alice-view → ClusterRole view', async () => {
    const m = await session.call('rbac.matrix', {
      cluster: id,
      subject: { kind: 'User', name: 'alice', groups: ['devs'] },
      namespace: 'default',
    });
    assert.deepEqual(m.user, { username: 'alice', groups: ['devs', 'system:authenticated'] });
    for (const verb of ['get', 'list', 'watch']) {
      const c = cell(m, 'pods', verb);
      assert.equal(c.allowed, true, verb);
      assert.deepEqual(
        c.grants.map((g) => g.text),
        ['RoleBinding default/alice-view → ClusterRole view'],
      );
      assert.deepEqual(c.grants[0]!.via, ['User alice']);
    }
    for (const verb of ['create', 'update', 'patch', 'delete', 'deletecollection'])
      assert.equal(cell(m, 'pods', verb).allowed, false, verb);
    for (const verb of m.verbs) {
      assert.equal(cell(m, 'secrets', verb).allowed, false, `secrets ${verb}`);
      assert.deepEqual(cell(m, 'secrets', verb).grants, []);
    }
    assert.equal(cell(m, 'pods/exec', 'create').allowed, false);
    assert.equal(cell(m, 'pods/log', 'get').allowed, true);
    assert.equal(cell(m, 'deployments.apps', 'list').allowed, true);
    assert.equal(cell(m, 'nodes', 'list').allowed, false, 'a RoleBinding grants nothing cluster-wide');
    // Every cell: the API server's answer and the RBAC explanation agree.
    for (const row of m.rows)
      for (const c of row.cells) assert.equal(c.grants.length > 0, c.allowed, `${row.label} ${c.verb}`);
    const other = await session.call('rbac.matrix', {
      cluster: id,
      subject: { kind: 'User', name: 'alice' },
      namespace: 'kube-system',
    });
    assert.equal(cell(other, 'pods', 'get').allowed, false);
    const sa = await session.call('rbac.matrix', {
      cluster: id,
      subject: { kind: 'ServiceAccount', namespace: 'default', name: 'default' },
      namespace: 'default',
    });
    assert.equal(sa.user.username, 'system:serviceaccount:default:default');
    assert.ok(sa.user.groups.includes('system:serviceaccounts:default'));
    assert.equal(cell(sa, 'pods', 'get').allowed, false);
  });

  test('view as alice: lists re-read as her, secrets refused, exec refused with 403, shell refused', async () => {
    const batches = (sub: string): WatchEvent[] =>
      events
        .filter((e): e is WatchBatchMessage => e.channel === 'resources.watch' && e.subscriptionId === sub)
        .flatMap((e) => e.events);
    await session.call('resources.subscribe', {
      cluster: id,
      subscriptionId: 'secrets',
      ref: SECRETS,
      namespace: 'default',
    });
    await waitFor('admin SYNC', () =>
      batches('secrets').some((e) => e.type === 'SYNC' && e.items.some((i) => i.metadata.name === 's')),
    );
    const can = {
      cluster: id,
      questions: [
        {
          verb: 'create',
          group: '',
          resource: 'pods',
          subresource: 'exec',
          namespace: 'default',
          name: 'web',
        },
      ],
    };
    assert.deepEqual(
      (await session.call('rbac.can', can)).map((a) => a.allowed),
      [true],
    );

    const state = await session.call('viewAs.set', { cluster: id, subject: { kind: 'User', name: 'alice' } });
    assert.deepEqual(state.impersonate, { user: 'alice', groups: [] });
    const seen = batches('secrets').length;
    await waitFor('403 after view as', () =>
      batches('secrets')
        .slice(seen)
        .some((e) => e.type === 'ERROR' && e.status.code === 403),
    );
    assert.deepEqual(
      batches('secrets')
        .slice(seen)
        .filter((e) => e.type === 'SYNC')
        .map((e) => (e.type === 'SYNC' ? e.items.length : -1)),
      [0],
      'the admin view of secrets is cleared',
    );
    const pods = await session.call('resources.list', { cluster: id, ref: PODS, namespace: 'default' });
    assert.deepEqual(
      pods.items.map((p) => p.metadata.name),
      ['web'],
    );
    const secretList = await rejection(
      session.call('resources.list', { cluster: id, ref: SECRETS, namespace: 'default' }),
    );
    assert.equal(secretList.contractError?.code, 403);
    assert.match(secretList.message, /User "alice" cannot list resource "secrets"/);
    assert.deepEqual(await session.call('rbac.can', can), [{ allowed: false }]);
    // Every write goes through the impersonating client too: alice (view) may not delete the pod.
    const del = await rejection(
      session.call('resources.delete', { cluster: id, ref: PODS, namespace: 'default', name: 'web' }),
    );
    assert.equal(del.contractError?.code, 403);
    assert.match(del.message, /User "alice" cannot delete resource "pods"/);
    const exec = await rejection(
      session.call('terminal.open', {
        cluster: id,
        terminalId: 't1',
        cols: 80,
        rows: 24,
        target: { kind: 'exec', namespace: 'default', pod: 'web', container: 'c' },
      }),
    );
    assert.match(exec.message, /403/);
    await assert.rejects(
      session.call('terminal.open', {
        cluster: id,
        terminalId: 't2',
        cols: 80,
        rows: 24,
        target: { kind: 'shell' },
      }),
      /leave "view as"/,
    );

    await session.call('viewAs.set', { cluster: id, subject: null });
    const back = batches('secrets').length;
    await waitFor('admin SYNC again', () =>
      batches('secrets')
        .slice(back)
        .some((e) => e.type === 'SYNC' && e.items.some((i) => i.metadata.name === 's')),
    );
    assert.equal(
      (await session.call('resources.list', { cluster: id, ref: SECRETS, namespace: 'default' })).items
        .length,
      1,
    );
  });

  test('revoke: the certificate stops working at once', async () => {
    const k = await session.call('users.kubeconfig', { cluster: id, name: 'alice' });
    const r = await session.call('users.revoke', { cluster: id, name: 'alice' });
    assert.equal(r.revoked, true);
    const kc = new KubeConfig();
    kc.loadFromString(k.yaml);
    const denied = await rejection(new KubeClient(kc).list(PODS, 'default'));
    assert.ok(denied instanceof KubeApiError && denied.code === 401, String(denied));
  });
});
