import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverSideApply } from './apply.ts';
import { updateManagedFieldsForUpdate } from './managed-fields.ts';
import { StatusError } from '../api/status.ts';
import type { KObject } from '../api/object.ts';

const now = new Date('2026-11-23T00:00:00Z');
const gr = { group: 'apps', resource: 'deployments' };
const opts = (manager: string, force = false) => ({
  manager,
  force,
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  now,
  gr,
  name: 'web',
});
const cfg = (replicas: number, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels: { app: 'web' } },
  spec: {
    replicas,
    template: { spec: { containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 80 }] }] } },
    ...extra,
  },
});

test('apply creates, records ownership, and is idempotent', () => {
  const a = serverSideApply(undefined, cfg(2), opts('kubectl'));
  const mf = a.metadata.managedFields!;
  assert.equal(mf.length, 1);
  assert.equal(mf[0]!.manager, 'kubectl');
  assert.equal(mf[0]!.operation, 'Apply');
  const f = mf[0]!.fieldsV1 as Record<string, Record<string, unknown>>;
  assert.ok(f['f:spec']!['f:replicas']);
  const containers = (f['f:spec']!['f:template'] as Record<string, Record<string, Record<string, unknown>>>)[
    'f:spec'
  ]!['f:containers']!;
  assert.ok(containers['k:{"name":"c"}']);
  const b = serverSideApply(a, cfg(2), opts('kubectl'));
  assert.deepEqual(b, a);
});

test('a field no longer applied is removed; another manager conflicts unless forced', () => {
  const a = serverSideApply(undefined, cfg(2, { minReadySeconds: 5 }), opts('kubectl'));
  const b = serverSideApply(a, cfg(2), opts('kubectl'));
  assert.equal((b['spec'] as Record<string, unknown>)['minReadySeconds'], undefined);
  assert.throws(
    () => serverSideApply(b, cfg(3), opts('other')),
    (e: unknown) =>
      e instanceof StatusError &&
      e.code === 409 &&
      e.message === 'Apply failed with 1 conflict: conflict with "kubectl" using apps/v1: .spec.replicas' &&
      e.status.details?.causes?.[0]?.reason === 'FieldManagerConflict',
  );
  // Same value: shared ownership, no conflict.
  const shared = serverSideApply(b, cfg(2), opts('other'));
  assert.equal(shared.metadata.managedFields!.length, 2);
  const forced = serverSideApply(b, cfg(3), opts('other', true));
  assert.equal((forced['spec'] as Record<string, unknown>)['replicas'], 3);
  const kubectl = forced.metadata.managedFields!.find((m) => m.manager === 'kubectl')!;
  assert.equal(
    (kubectl.fieldsV1 as Record<string, Record<string, unknown>>)['f:spec']!['f:replicas'],
    undefined,
  );
});

test('an Update takes ownership of what it changed, so a later apply conflicts with it', () => {
  const a = serverSideApply(undefined, cfg(2), opts('kubectl'));
  const edited = structuredClone(a) as KObject;
  (edited['spec'] as Record<string, unknown>)['replicas'] = 4;
  updateManagedFieldsForUpdate(a, edited, 'kubectl-edit', 'apps/v1', now);
  const managers = edited.metadata.managedFields!.map((m) => `${m.manager}/${m.operation}`);
  assert.deepEqual(managers, ['kubectl/Apply', 'kubectl-edit/Update']);
  assert.throws(
    () => serverSideApply(edited, cfg(2), opts('kubectl')),
    (e: unknown) =>
      e instanceof StatusError &&
      e.message.includes('conflict with "kubectl-edit" using apps/v1: .spec.replicas'),
  );
});

test('list-map keys with defaults match (ports by containerPort and protocol)', () => {
  const live = serverSideApply(undefined, cfg(1), opts('kubectl'));
  const c = (live['spec'] as Record<string, Record<string, Record<string, unknown[]>>>)['template']!['spec']![
    'containers'
  ]![0] as Record<string, unknown[]>;
  (c['ports']![0] as Record<string, unknown>)['protocol'] = 'TCP';
  const again = serverSideApply(live, cfg(1), opts('kubectl'));
  const ports = (
    (again['spec'] as Record<string, Record<string, Record<string, unknown[]>>>)['template']!['spec']![
      'containers'
    ]![0] as Record<string, unknown[]>
  )['ports']!;
  assert.equal(ports.length, 1);
});
