/**
 * Garbage in, StatusError (or a value) out: the four engines never crash, never mutate their inputs and
 * never pollute prototypes, whatever they are given.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonPatch } from './json-patch.ts';
import { mergePatch } from './merge-patch.ts';
import { strategicMergePatch } from './strategic-merge.ts';
import { serverSideApply } from './apply.ts';
import { updateManagedFieldsForUpdate } from './managed-fields.ts';
import { StatusError } from '../api/status.ts';
import type { KObject } from '../api/object.ts';

let seed = 12345;
const rnd = (): number => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;

const KEYS = [
  'metadata',
  'spec',
  'status',
  'template',
  'containers',
  'name',
  'image',
  'env',
  'value',
  'ports',
  'containerPort',
  'protocol',
  'finalizers',
  'labels',
  'strategy',
  'type',
  'rollingUpdate',
  'volumes',
  '$patch',
  '$retainKeys',
  '$setElementOrder/containers',
  '$setElementOrder/env',
  '$deleteFromPrimitiveList/finalizers',
  '__proto__',
  'constructor',
  'managedFields',
  'apiVersion',
  'kind',
  'replicas',
  'selector',
  'tolerations',
  '',
] as const;
const SCALARS = [
  null,
  0,
  1,
  -1,
  1.5,
  '',
  'a',
  'delete',
  'replace',
  'merge',
  true,
  false,
  'TCP',
  'apps/v1',
] as const;

function value(depth: number): unknown {
  const r = rnd();
  if (depth > 5 || r < 0.35) return pick(SCALARS);
  if (r < 0.65) {
    const o: Record<string, unknown> = {};
    const n = Math.floor(rnd() * 5);
    for (let i = 0; i < n; i++)
      Object.defineProperty(o, pick(KEYS), {
        value: value(depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    return o;
  }
  return Array.from({ length: Math.floor(rnd() * 4) }, () => value(depth + 1));
}

function jsonOps(): unknown {
  if (rnd() < 0.1) return value(0);
  return Array.from({ length: Math.floor(rnd() * 4) }, () => ({
    op: pick(['add', 'remove', 'replace', 'move', 'copy', 'test', 'bogus']),
    path: pick([
      '',
      '/',
      '/spec',
      '/spec/replicas',
      '/list/-',
      '/list/0',
      '/list/-1',
      '/a~1b',
      '/__proto__',
      '/x/y',
      7,
    ]),
    ...(rnd() < 0.5 ? { from: pick(['/spec', '/list/0', '/nope', '']) } : {}),
    ...(rnd() < 0.8 ? { value: value(2) } : {}),
  }));
}

function check(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof StatusError)) throw e;
    assert.ok([400, 409, 413, 422].includes(e.code), `unexpected code ${e.code}`);
  }
}

test('fuzz: the patch engines only ever throw StatusErrors and leave their inputs alone', () => {
  for (let i = 0; i < 3000; i++) {
    const doc = rnd() < 0.8 ? { spec: value(1), metadata: value(2), list: [1, 2] } : value(0);
    const patch = value(0);
    const snapshot = JSON.stringify([doc, patch]);
    check(() => jsonPatch(doc, jsonOps()));
    check(() => mergePatch(doc, patch));
    check(() =>
      strategicMergePatch(
        doc,
        patch,
        pick(['apps/v1', 'v1', 'batch/v1', 'x.io/v1']),
        pick(['Deployment', 'Pod', 'CronJob', 'Service', 'Node', 'Widget']),
      ),
    );
    const applied =
      rnd() < 0.5 ? { apiVersion: 'apps/v1', kind: 'Deployment', ...(value(0) as object) } : patch;
    check(() =>
      serverSideApply(rnd() < 0.5 ? undefined : ({ metadata: {}, ...(doc as object) } as KObject), applied, {
        manager: pick(['kubectl', 'other']),
        force: rnd() < 0.5,
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        now: new Date(0),
        gr: { group: 'apps', resource: 'deployments' },
        name: 'web',
      }),
    );
    check(() => {
      const next = { metadata: { managedFields: value(2) }, ...(value(0) as object) } as KObject;
      updateManagedFieldsForUpdate(
        { metadata: {}, ...(doc as object) } as KObject,
        next,
        'm',
        'apps/v1',
        new Date(0),
      );
    });
    assert.equal(JSON.stringify([doc, patch]), snapshot, 'inputs untouched');
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    assert.equal(Object.getPrototypeOf({}), Object.prototype);
  }
});

test('fuzz: absurd nesting is a 400, not a stack overflow', () => {
  let deep: unknown = 1;
  for (let i = 0; i < 100000; i++) deep = { a: deep };
  for (const fn of [
    () => mergePatch({}, deep),
    () => strategicMergePatch({}, deep, 'v1', 'Pod'),
    () => jsonPatch({}, [{ op: 'add', path: '/a', value: deep }]),
    () =>
      serverSideApply(
        undefined,
        { apiVersion: 'v1', kind: 'Pod', spec: deep },
        {
          manager: 'm',
          force: false,
          apiVersion: 'v1',
          kind: 'Pod',
          now: new Date(0),
          gr: { group: '', resource: 'pods' },
          name: 'p',
        },
      ),
  ])
    assert.throws(fn, (e: unknown) => e instanceof StatusError && e.code === 400);
});
