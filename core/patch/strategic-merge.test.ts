import { test } from 'node:test';
import assert from 'node:assert/strict';
import { strategicMergePatch } from './strategic-merge.ts';
import { StatusError } from '../api/status.ts';

const deploy = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', finalizers: ['a'] },
  spec: {
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    template: {
      spec: {
        containers: [
          {
            name: 'a',
            image: 'nginx:1.25',
            env: [
              { name: 'X', value: '1' },
              { name: 'Y', value: '2' },
            ],
            ports: [{ containerPort: 80 }],
          },
          { name: 'b', image: 'busybox' },
        ],
        volumes: [{ name: 'v', emptyDir: {} }],
        tolerations: [{ key: 't1' }],
      },
    },
  },
});

const sm = (orig: unknown, patch: unknown) =>
  strategicMergePatch(orig, patch, 'apps/v1', 'Deployment') as ReturnType<typeof deploy>;

test('containers merge by name: set image keeps the rest', () => {
  const out = sm(deploy(), {
    spec: { template: { spec: { containers: [{ name: 'a', image: 'nginx:1.26' }] } } },
  });
  const cs = out.spec.template.spec.containers;
  assert.equal(cs.length, 2);
  assert.equal(cs[0]!.image, 'nginx:1.26');
  assert.equal(cs[0]!.env!.length, 2);
  assert.equal(cs[1]!.name, 'b');
});

test('the apply patch of kubectl-compat §5.3: $setElementOrder and $patch: delete', () => {
  const patch = {
    spec: {
      template: {
        spec: {
          '$setElementOrder/containers': [{ name: 'a' }, { name: 'b' }],
          containers: [
            {
              '$setElementOrder/env': [{ name: 'X' }, { name: 'Z' }],
              env: [
                { name: 'Z', value: '3' },
                { $patch: 'delete', name: 'Y' },
              ],
              image: 'nginx:1.26',
              name: 'a',
            },
          ],
        },
      },
    },
  };
  const a = sm(deploy(), patch).spec.template.spec.containers[0]!;
  assert.deepEqual(a.env, [
    { name: 'X', value: '1' },
    { name: 'Z', value: '3' },
  ]);
  assert.equal(a.image, 'nginx:1.26');
});

test('lists without a merge key are replaced; null deletes; $retainKeys drops other keys', () => {
  const out = sm(deploy(), {
    spec: {
      strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: null },
      template: { spec: { tolerations: [{ key: 't2' }], volumes: [{ name: 'w', emptyDir: {} }] } },
    },
  });
  assert.deepEqual(out.spec.strategy, { type: 'Recreate' });
  assert.deepEqual(out.spec.template.spec.tolerations, [{ key: 't2' }]);
  assert.deepEqual(
    out.spec.template.spec.volumes.map((v) => v.name),
    ['v', 'w'],
  );
});

test('primitive merge lists are unions and honour $deleteFromPrimitiveList', () => {
  const out = sm(deploy(), { metadata: { finalizers: ['b'], '$deleteFromPrimitiveList/finalizers': ['a'] } });
  assert.deepEqual(out.metadata.finalizers, ['b']);
  const union = sm(deploy(), { metadata: { finalizers: ['a', 'c'] } });
  assert.deepEqual(union.metadata.finalizers, ['a', 'c']);
});

test('$patch: replace on a list and on a map', () => {
  const out = sm(deploy(), {
    spec: { template: { spec: { containers: [{ $patch: 'replace' }, { name: 'only', image: 'x' }] } } },
  });
  assert.deepEqual(out.spec.template.spec.containers, [{ name: 'only', image: 'x' }]);
  const m = sm(deploy(), { spec: { strategy: { $patch: 'replace', type: 'Recreate' } } });
  assert.deepEqual(m.spec.strategy, { type: 'Recreate' });
});

test('bad directives and missing merge keys are 400s', () => {
  const is400 = (e: unknown) => e instanceof StatusError && e.code === 400;
  assert.throws(() => sm(deploy(), [1, 2]), is400);
  assert.throws(
    () => sm(deploy(), { spec: { template: { spec: { containers: [{ image: 'x' }] } } } }),
    is400,
  );
  assert.throws(() => sm(deploy(), { spec: { $patch: 'explode' } }), is400);
});
