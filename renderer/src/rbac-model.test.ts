import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AccessCell, AccessGrant, BerthUser } from '../../electron/contract.ts';
import {
  actionableError,
  cellTitle,
  deniedText,
  execErrorText,
  formOf,
  parseGroups,
  sameSubject,
  shortTime,
  subjectFromForm,
  subjectShort,
  subjectText,
  userState,
} from './rbac-model.ts';
import { RequestError } from './bridge.ts';

const grant = (text: string): AccessGrant => ({
  binding: { kind: 'RoleBinding', name: 'alice-view', namespace: 'default' },
  role: { kind: 'ClusterRole', name: 'view' },
  rule: { verbs: ['get'] },
  via: ['User alice'],
  text,
});

const alice: BerthUser = {
  name: 'alice',
  groups: ['devs'],
  serial: '01',
  notAfter: '2030-01-01T00:00:00.000Z',
  revoked: false,
};

test('subjects read as sentences and compare by kind, name and namespace', () => {
  const sa = { kind: 'ServiceAccount', namespace: 'ci', name: 'builder' } as const;
  assert.equal(subjectText({ kind: 'User', name: 'alice' }), 'User alice');
  assert.equal(subjectText(sa), 'ServiceAccount ci/builder');
  assert.equal(subjectShort({ kind: 'User', name: 'alice' }), 'alice');
  assert.equal(subjectShort({ kind: 'Group', name: 'devs' }), 'group devs');
  assert.equal(subjectShort(sa), 'serviceaccount ci/builder');
  assert.ok(sameSubject({ kind: 'User', name: 'a', groups: ['x'] }, { kind: 'User', name: 'a' }));
  assert.ok(!sameSubject({ kind: 'User', name: 'a' }, { kind: 'Group', name: 'a' }));
  assert.ok(!sameSubject(sa, { ...sa, namespace: 'other' }));
  assert.ok(!sameSubject(undefined, sa));
});

test('cellTitle names every granting binding → role, or says why not', () => {
  const allowed: AccessCell = {
    verb: 'get',
    allowed: true,
    grants: [
      grant('RoleBinding default/alice-view → ClusterRole view'),
      grant('ClusterRoleBinding x → ClusterRole y'),
    ],
  };
  assert.equal(
    cellTitle(allowed, 'pods'),
    'RoleBinding default/alice-view → ClusterRole view\nClusterRoleBinding x → ClusterRole y',
  );
  assert.equal(
    cellTitle({ verb: 'get', allowed: true, grants: [] }, 'nodes'),
    'get nodes: allowed by another authorizer',
  );
  assert.equal(
    cellTitle({ verb: 'get', allowed: false, grants: [] }, 'secrets'),
    'get secrets: denied — no binding grants it',
  );
  assert.equal(
    cellTitle({ verb: 'get', allowed: false, grants: [], reason: 'webhook said no' }, 'secrets'),
    'get secrets: denied (webhook said no)',
  );
});

test('deniedText: "alice cannot create pods/exec in default"', () => {
  assert.equal(
    deniedText({ kind: 'User', name: 'alice' }, 'create', 'pods/exec', 'default'),
    'alice cannot create pods/exec in default',
  );
  assert.equal(
    deniedText({ kind: 'Group', name: 'g' }, 'list', 'nodes', undefined, 'no'),
    'group g cannot list nodes (no)',
  );
});

test('subjectFromForm: a known user brings its certificate groups; missing fields are problems', () => {
  assert.deepEqual(subjectFromForm({ kind: 'User', name: ' alice ', namespace: '' }, [alice]), {
    subject: { kind: 'User', name: 'alice', groups: ['devs'] },
  });
  assert.deepEqual(
    subjectFromForm({ kind: 'User', name: 'alice', namespace: '' }, [{ ...alice, revoked: true }]),
    {
      subject: { kind: 'User', name: 'alice' },
    },
  );
  assert.deepEqual(subjectFromForm({ kind: 'Group', name: 'devs', namespace: 'x' }, []), {
    subject: { kind: 'Group', name: 'devs' },
  });
  assert.deepEqual(subjectFromForm({ kind: 'ServiceAccount', name: 'b', namespace: 'ci' }, []), {
    subject: { kind: 'ServiceAccount', namespace: 'ci', name: 'b' },
  });
  assert.ok('problem' in subjectFromForm({ kind: 'User', name: ' ', namespace: '' }, []));
  assert.ok('problem' in subjectFromForm({ kind: 'ServiceAccount', name: 'b', namespace: '' }, []));
  assert.deepEqual(formOf({ kind: 'ServiceAccount', namespace: 'ci', name: 'b' }), {
    kind: 'ServiceAccount',
    name: 'b',
    namespace: 'ci',
  });
});

test('parseGroups, shortTime, userState', () => {
  assert.deepEqual(parseGroups(' devs, testers  devs,,ops '), ['devs', 'testers', 'ops']);
  assert.deepEqual(parseGroups(''), []);
  assert.equal(shortTime('2026-11-23T15:46:34.123Z'), '2026-11-23 15:46 UTC');
  assert.equal(shortTime(undefined), '');
  assert.equal(shortTime('soon'), '');
  const now = Date.parse('2026-11-23T00:00:00Z');
  assert.equal(userState(alice, now), 'valid');
  assert.equal(userState({ ...alice, notAfter: '2026-01-01T00:00:00Z' }, now), 'expired');
  assert.equal(userState({ ...alice, revoked: true }, now), 'revoked');
});

test('actionableError says what to do', () => {
  assert.equal(
    actionableError(new Error('user "alice" exists (revoke it first with `berth user revoke alice`)')),
    'user "alice" exists: revoke it first (Revoke in its row), then create it again.',
  );
  assert.match(
    actionableError(new RequestError({ message: 'rolebindings "alice-view" already exists', code: 409 })),
    /certificate was issued; delete that binding \(Bindings tab\)/,
  );
  assert.match(
    actionableError(new RequestError({ message: 'pods is forbidden', code: 403, reason: 'Forbidden' })),
    /leave it first/,
  );
  assert.match(
    actionableError(new Error('users exist only in Berth clusters (client certificates)')),
    /pick a Berth cluster/,
  );
  assert.match(actionableError(new Error('not connected to the Berth server')), /wait until the connection/);
  assert.equal(actionableError('plain'), 'plain');
});

test('execErrorText: a 403 while viewing as a subject names who may not exec where', () => {
  const msg = 'exec into default/web (app) failed: Unexpected server response: 403';
  assert.equal(
    execErrorText(msg, { kind: 'User', name: 'alice' }, 'default'),
    `alice cannot create pods/exec in default: the API server refused (${msg})`,
  );
  assert.equal(execErrorText(msg, undefined, 'default'), msg);
  assert.equal(
    execErrorText('container not found', { kind: 'User', name: 'alice' }, 'default'),
    'container not found',
  );
});
