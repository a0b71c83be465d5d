import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverSideApply, type ApplyOptions } from './apply.ts';
import { updateManagedFieldsForUpdate } from './managed-fields.ts';
import { StatusError } from '../api/status.ts';
import type { KObject } from '../api/object.ts';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const now = new Date('2026-11-23T00:00:00Z');
const later = new Date('2026-11-23T00:05:00Z');
const opts = (manager: string, force = false, at = now): ApplyOptions => ({
  manager,
  force,
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  now: at,
  gr: { group: 'apps', resource: 'deployments' },
  name: 'web',
});
const cfg = (replicas: number, extra: Any = {}): Any => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels: { app: 'web' } },
  spec: {
    replicas,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 80 }] }] },
    },
    ...extra,
  },
});
const fields = (o: KObject, manager: string): Any =>
  o.metadata.managedFields!.find((m) => m.manager === manager)!.fieldsV1 as Any;

test('create via apply: the fieldsV1 Kubernetes shows', () => {
  const a = serverSideApply(undefined, cfg(2), opts('kubectl'));
  const mf = a.metadata.managedFields!;
  assert.equal(mf.length, 1);
  assert.deepEqual(
    { ...mf[0], fieldsV1: undefined },
    {
      manager: 'kubectl',
      operation: 'Apply',
      apiVersion: 'apps/v1',
      time: '2026-11-23T00:00:00Z',
      fieldsType: 'FieldsV1',
      fieldsV1: undefined,
    },
  );
  assert.deepEqual(mf[0]!.fieldsV1, {
    'f:metadata': { 'f:labels': { 'f:app': {} } },
    'f:spec': {
      'f:replicas': {},
      'f:selector': {},
      'f:template': {
        'f:metadata': { 'f:labels': { 'f:app': {} } },
        'f:spec': {
          'f:containers': {
            'k:{"name":"c"}': {
              '.': {},
              'f:image': {},
              'f:name': {},
              'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
            },
          },
        },
      },
    },
  });
  assert.equal(a['apiVersion'], 'apps/v1');
  assert.equal((a['spec'] as Any)['replicas'], 2);
});

test('re-applying the same configuration changes nothing', () => {
  const a = serverSideApply(undefined, cfg(2), opts('kubectl'));
  const b = serverSideApply(a, cfg(2), opts('kubectl', false, later));
  assert.deepEqual(b, a);
});

test('a field the manager stops applying is removed (and the map it leaves empty)', () => {
  const a = serverSideApply(
    undefined,
    cfg(2, { minReadySeconds: 5, strategy: { type: 'Recreate' } }),
    opts('kubectl'),
  );
  const b = serverSideApply(a, cfg(2), opts('kubectl'));
  assert.equal((b['spec'] as Any)['minReadySeconds'], undefined);
  assert.equal((b['spec'] as Any)['strategy'], undefined);
  assert.equal(fields(b, 'kubectl')['f:spec']['f:minReadySeconds'], undefined);
  // A container removed from the configuration goes too.
  const two = cfg(2);
  two['spec'].template.spec.containers.push({ name: 'd', image: 'y' });
  const c = serverSideApply(b, two, opts('kubectl'));
  assert.equal((c['spec'] as Any).template.spec.containers.length, 2);
  const d = serverSideApply(c, cfg(2), opts('kubectl'));
  assert.deepEqual(
    (d['spec'] as Any).template.spec.containers.map((x: Any) => x.name),
    ['c'],
  );
});

test('two managers on different fields merge; a field still owned by another manager is not removed', () => {
  const a = serverSideApply(undefined, cfg(2), opts('kubectl'));
  const b = serverSideApply(
    a,
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', labels: { team: 'x' } },
      spec: { paused: true },
    },
    opts('other'),
  );
  assert.deepEqual((b['metadata'] as Any).labels, { app: 'web', team: 'x' });
  assert.equal((b['spec'] as Any).paused, true);
  assert.equal((b['spec'] as Any).replicas, 2);
  assert.deepEqual(
    b.metadata.managedFields!.map((m) => m.manager),
    ['kubectl', 'other'],
  );
  // Same value applied by a second manager: shared ownership, no conflict.
  const shared = serverSideApply(b, cfg(2), opts('third'));
  assert.ok(fields(shared, 'third')['f:spec']['f:replicas']);
  assert.ok(fields(shared, 'kubectl')['f:spec']['f:replicas']);
  // kubectl stops applying replicas, but "third" owns it: it stays.
  const noReplicas = cfg(2);
  delete noReplicas['spec'].replicas;
  const kept = serverSideApply(shared, noReplicas, opts('kubectl'));
  assert.equal((kept['spec'] as Any).replicas, 2);
});

test('a conflicting value is a 409 with the apiserver message and causes; force steals', () => {
  const a = serverSideApply(undefined, cfg(2), opts('kubectl'));
  assert.throws(
    () => serverSideApply(a, cfg(3), opts('other')),
    (e: unknown) =>
      e instanceof StatusError &&
      e.code === 409 &&
      e.reason === 'Conflict' &&
      e.message === 'Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas' &&
      JSON.stringify(e.status.details) ===
        JSON.stringify({
          causes: [
            { reason: 'FieldManagerConflict', message: 'conflict with "kubectl"', field: '.spec.replicas' },
          ],
        }),
  );
  const two = cfg(3);
  two['spec'].template.spec.containers[0].image = 'z';
  assert.throws(
    () => serverSideApply(a, two, opts('other')),
    (e: unknown) =>
      e instanceof StatusError &&
      e.message ===
        'Apply failed with 2 conflicts: conflicts with "kubectl":\n- .spec.replicas\n- .spec.template.spec.containers[name="c"].image' &&
      e.status.details?.causes?.length === 2,
  );
  const forced = serverSideApply(a, cfg(3), opts('other', true));
  assert.equal((forced['spec'] as Any).replicas, 3);
  assert.equal(fields(forced, 'kubectl')['f:spec']['f:replicas'], undefined);
  assert.ok(fields(forced, 'other')['f:spec']['f:replicas']);
});

test('an Update by kubectl-edit takes ownership, so a later apply conflicts with it', () => {
  const a = serverSideApply(undefined, cfg(2), opts('kubectl'));
  const edited = structuredClone(a) as KObject;
  (edited['spec'] as Any)['replicas'] = 4;
  updateManagedFieldsForUpdate(a, edited, 'kubectl-edit', 'apps/v1', later);
  assert.deepEqual(
    edited.metadata.managedFields!.map((m) => `${m.manager}/${m.operation}/${m.time}`),
    ['kubectl/Apply/2026-11-23T00:00:00Z', 'kubectl-edit/Update/2026-11-23T00:05:00Z'],
  );
  assert.deepEqual(fields(edited, 'kubectl-edit'), { 'f:spec': { 'f:replicas': {} } });
  assert.equal(fields(edited, 'kubectl')['f:spec']['f:replicas'], undefined);
  assert.throws(
    () => serverSideApply(edited, cfg(2), opts('kubectl')),
    (e: unknown) =>
      e instanceof StatusError &&
      e.message ===
        'Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas',
  );
});

test('updates: create owns everything, no-op keeps time, removed fields leave every set, [{}] resets', () => {
  const created = cfg(1) as KObject;
  updateManagedFieldsForUpdate(undefined, created, 'kubectl-create', 'apps/v1', now);
  assert.equal(created.metadata.managedFields!.length, 1);
  assert.ok(fields(created, 'kubectl-create')['f:spec']['f:template']);
  const same = structuredClone(created);
  updateManagedFieldsForUpdate(created, same, 'kubectl-create', 'apps/v1', later);
  assert.equal(same.metadata.managedFields![0]!.time, '2026-11-23T00:00:00Z');
  const removed = structuredClone(created);
  delete (removed['spec'] as Any).replicas;
  (removed['metadata'] as Any).labels.x = 'y';
  updateManagedFieldsForUpdate(created, removed, 'kubectl-label', 'apps/v1', later);
  assert.equal(fields(removed, 'kubectl-create')['f:spec']['f:replicas'], undefined);
  assert.deepEqual(fields(removed, 'kubectl-label'), { 'f:metadata': { 'f:labels': { 'f:x': {} } } });
  const reset = structuredClone(removed);
  reset.metadata.managedFields = [{}];
  updateManagedFieldsForUpdate(removed, reset, 'kubectl-patch', 'apps/v1', later);
  assert.equal(reset.metadata.managedFields, undefined);
  // Status changes through the main resource are not tracked; through /status they are.
  const st = structuredClone(created);
  st['status'] = { replicas: 1 };
  updateManagedFieldsForUpdate(created, st, 'kube-controller-manager', 'apps/v1', later);
  assert.equal(st.metadata.managedFields!.length, 1);
  updateManagedFieldsForUpdate(created, st, 'kube-controller-manager', 'apps/v1', later, 'status');
  assert.deepEqual(
    st.metadata.managedFields!.map((m) => `${m.manager}/${m.subresource ?? ''}`),
    ['kubectl-create/', 'kube-controller-manager/status'],
  );
});

test('list-map keys with defaults match (ports by containerPort and protocol TCP)', () => {
  const live = serverSideApply(undefined, cfg(1), opts('kubectl'));
  ((live['spec'] as Any).template.spec.containers[0].ports[0] as Any).protocol = 'TCP';
  const again = serverSideApply(live, cfg(1), opts('kubectl'));
  assert.equal((again['spec'] as Any).template.spec.containers[0].ports.length, 1);
});

test('bad configurations are rejected as the apiserver does', () => {
  const bad = (applied: unknown, code: number, msg?: string) =>
    assert.throws(
      () => serverSideApply(undefined, applied, opts('kubectl')),
      (e: unknown) => e instanceof StatusError && e.code === code && (msg === undefined || e.message === msg),
    );
  bad([1], 400);
  bad(
    { ...cfg(1), apiVersion: 'apps/v1beta1' },
    400,
    'Incorrect version specified in apply patch. Specified patch version: apps/v1beta1, expected: apps/v1',
  );
  bad({ ...cfg(1), metadata: { name: 'web', managedFields: [] } }, 400, 'metadata.managedFields must be nil');
  bad({ ...cfg(1), metadata: { name: 'other' } }, 400);
  const dup = cfg(1);
  dup['spec'].template.spec.containers.push({ name: 'c', image: 'y' });
  bad(dup, 400);
  const noKey = cfg(1);
  noKey['spec'].template.spec.containers.push({ image: 'y' });
  bad(
    noKey,
    400,
    'failed to create typed patch object (apps/v1, Kind=Deployment): .spec.template.spec.containers: element 1: associative list with keys has an element that omits key field "name" (and doesn\'t have default value)',
  );
});
