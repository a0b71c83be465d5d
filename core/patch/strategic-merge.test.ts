import { test } from 'node:test';
import assert from 'node:assert/strict';
import { strategicMergePatch, supportsStrategicMerge } from './strategic-merge.ts';
import { schemaFor } from './merge-keys.ts';
import { StatusError } from '../api/status.ts';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const deploy = (): Any => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', finalizers: ['a'], labels: { app: 'web' } },
  spec: {
    replicas: 2,
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

const sm = (orig: unknown, patch: unknown): Any =>
  strategicMergePatch(orig, patch, 'apps/v1', 'Deployment') as Any;
const podSpec = (o: Any): Any => o['spec']['template']['spec'];

test('kubectl set image: $setElementOrder/containers, other fields kept', () => {
  const out = sm(deploy(), {
    spec: {
      template: {
        spec: {
          '$setElementOrder/containers': [{ name: 'a' }, { name: 'b' }],
          containers: [{ image: 'nginx:1.27', name: 'a' }],
        },
      },
    },
  });
  const cs = podSpec(out)['containers'];
  assert.deepEqual(
    cs.map((c: Any) => [c.name, c.image]),
    [
      ['a', 'nginx:1.27'],
      ['b', 'busybox'],
    ],
  );
  assert.equal(cs[0].env.length, 2);
  assert.deepEqual(podSpec(out)['volumes'], [{ name: 'v', emptyDir: {} }]);
});

test('the apply patch of kubectl-compat §5.3: env removal by $patch: delete and ordering', () => {
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
  const a = podSpec(sm(deploy(), patch))['containers'][0];
  assert.deepEqual(a.env, [
    { name: 'X', value: '1' },
    { name: 'Z', value: '3' },
  ]);
  assert.equal(a.image, 'nginx:1.26');
  assert.ok(!JSON.stringify(a).includes('$'), 'no directive leaks into the object');
});

test('three-way patch of kubectl apply: server-only items keep their place, null deletes', () => {
  const live = deploy();
  podSpec(live)['containers'].splice(1, 0, { name: 'sidecar', image: 'envoy' });
  const patch = {
    metadata: {
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}\n' },
      labels: { tier: 'web' },
    },
    spec: {
      replicas: null,
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
              name: 'a',
            },
          ],
        },
      },
    },
  };
  const out = sm(live, patch);
  assert.equal(out['spec']['replicas'], undefined);
  assert.deepEqual(out['metadata']['labels'], { app: 'web', tier: 'web' });
  assert.deepEqual(
    podSpec(out)['containers'].map((c: Any) => c.name),
    ['a', 'sidecar', 'b'],
  );
});

test('lists merge by their keys: volumes by name, ports by containerPort; new items go first without an order', () => {
  const out = sm(deploy(), {
    spec: {
      template: {
        spec: {
          volumes: [{ name: 'w', configMap: { name: 'cm' } }],
          containers: [{ name: 'a', ports: [{ containerPort: 443 }, { containerPort: 80, name: 'http' }] }],
        },
      },
    },
  });
  assert.deepEqual(
    podSpec(out)['volumes'].map((v: Any) => v.name),
    ['w', 'v'],
  );
  assert.deepEqual(podSpec(out)['containers'][0].ports, [
    { containerPort: 443 },
    { containerPort: 80, name: 'http' },
  ]);
});

test('lists without a merge key (tolerations) are replaced; $patch: replace on a list and a map', () => {
  const out = sm(deploy(), { spec: { template: { spec: { tolerations: [{ key: 't2' }] } } } });
  assert.deepEqual(podSpec(out)['tolerations'], [{ key: 't2' }]);
  const r = sm(deploy(), {
    spec: { template: { spec: { containers: [{ $patch: 'replace' }, { name: 'only', image: 'x' }] } } },
  });
  assert.deepEqual(podSpec(r)['containers'], [{ name: 'only', image: 'x' }]);
  const m = sm(deploy(), { spec: { strategy: { $patch: 'replace', type: 'Recreate' } } });
  assert.deepEqual(m['spec']['strategy'], { type: 'Recreate' });
  const d = sm(deploy(), { spec: { strategy: { $patch: 'delete' } } });
  assert.deepEqual(d['spec']['strategy'], {});
});

test('$retainKeys on the Deployment strategy: Recreate drops rollingUpdate', () => {
  const out = sm(deploy(), {
    spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: null } },
  });
  assert.deepEqual(out['spec']['strategy'], { type: 'Recreate' });
  const noNull = sm(deploy(), { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } });
  assert.deepEqual(noNull['spec']['strategy'], { type: 'Recreate' });
  assert.throws(
    () => sm(deploy(), { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: { maxSurge: 2 } } } }),
    (e: unknown) =>
      e instanceof StatusError && e.code === 400 && e.message === 'invalid patch format of retainKeys',
  );
});

test('finalizers: union, $deleteFromPrimitiveList, $setElementOrder', () => {
  assert.deepEqual(sm(deploy(), { metadata: { finalizers: ['a', 'c'] } })['metadata']['finalizers'], [
    'a',
    'c',
  ]);
  assert.deepEqual(sm(deploy(), { metadata: { finalizers: ['c'] } })['metadata']['finalizers'], ['c', 'a']);
  assert.deepEqual(
    sm(deploy(), { metadata: { finalizers: ['b'], '$deleteFromPrimitiveList/finalizers': ['a'] } })[
      'metadata'
    ]['finalizers'],
    ['b'],
  );
  assert.deepEqual(
    sm(deploy(), { metadata: { '$setElementOrder/finalizers': ['a', 'c'], finalizers: ['c'] } })['metadata'][
      'finalizers'
    ],
    ['a', 'c'],
  );
});

test('rollout restart / pause / resume and cordon patches', () => {
  const r = sm(deploy(), {
    spec: {
      template: {
        metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-01-01T00:00:00Z' } },
      },
    },
  });
  assert.equal(
    r['spec']['template']['metadata']['annotations']['kubectl.kubernetes.io/restartedAt'],
    '2026-01-01T00:00:00Z',
  );
  const p = sm(deploy(), { spec: { paused: true } });
  assert.equal(p['spec']['paused'], true);
  assert.equal(sm(p, { spec: { paused: null } })['spec']['paused'], undefined);
  const node = strategicMergePatch(
    { kind: 'Node', spec: {} },
    { spec: { unschedulable: true } },
    'v1',
    'Node',
  );
  assert.deepEqual(node, { kind: 'Node', spec: { unschedulable: true } });
});

test('the same facts apply at any depth: a CronJob job template pod spec', () => {
  const cj = {
    spec: {
      jobTemplate: {
        spec: {
          template: { spec: { containers: [{ name: 'a', image: 'x', env: [{ name: 'A', value: '1' }] }] } },
        },
      },
    },
  };
  const out = strategicMergePatch(
    cj,
    {
      spec: {
        jobTemplate: {
          spec: { template: { spec: { containers: [{ name: 'a', env: [{ name: 'B', value: '2' }] }] } } },
        },
      },
    },
    'batch/v1',
    'CronJob',
  ) as Any;
  const c = out['spec']['jobTemplate']['spec']['template']['spec']['containers'];
  assert.equal(c.length, 1);
  assert.deepEqual(
    c[0].env.map((e: Any) => e.name),
    ['B', 'A'],
  );
  assert.equal(
    schemaFor('batch/v1', 'CronJob').field('spec').schema.field('jobTemplate').schema.name,
    'JobTemplateSpec',
  );
  const svc = strategicMergePatch(
    { spec: { ports: [{ port: 80, name: 'http' }], selector: { a: '1' } } },
    { spec: { ports: [{ port: 443, name: 'https' }] } },
    'v1',
    'Service',
  ) as Any;
  assert.equal(svc['spec']['ports'].length, 2);
});

test('errors: 400 for bad input and directive formats, upstream raw text (as 400) for a missing merge key or $patch: merge', () => {
  const code = (n: number, msg?: string) => (e: unknown) =>
    e instanceof StatusError && e.code === n && (msg === undefined || e.message === msg);
  assert.throws(
    () => sm(deploy(), [1, 2]),
    code(400, 'json: cannot unmarshal array into Go value of type map[string]interface {}'),
  );
  assert.throws(
    () => sm(deploy(), { spec: { template: { spec: { containers: [{ image: 'x' }] } } } }),
    code(400, 'map: map[image:x] does not contain declared merge key: name'),
  );
  assert.throws(() => sm(deploy(), { spec: { strategy: { $patch: 'explode' } } }), code(400));
  assert.throws(
    () => sm(deploy(), { spec: { template: { spec: { containers: [{ $patch: 'merge', name: 'a' }] } } } }),
    code(400, 'merging lists cannot yet be specified in the patch'),
  );
  assert.throws(() => sm({ metadata: { finalizers: [] } }, { metadata: { finalizers: [['x']] } }), code(422));
  assert.throws(() => sm(deploy(), { metadata: { finalizers: [['x']] } }), code(400));
  assert.throws(() => sm(deploy(), { metadata: { $retainKeys: 'x' } }), code(400));
  assert.deepEqual(sm(deploy(), null), deploy());
});

test('supportsStrategicMerge: built-in kinds only', () => {
  assert.equal(supportsStrategicMerge('apps/v1', 'Deployment'), true);
  assert.equal(supportsStrategicMerge('v1', 'ConfigMap'), true);
  assert.equal(supportsStrategicMerge('rbac.authorization.k8s.io/v1', 'Role'), true);
  assert.equal(supportsStrategicMerge('berth.test/v1', 'Widget'), false);
});
