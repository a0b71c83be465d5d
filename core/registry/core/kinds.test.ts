import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { fieldErrorString } from '../../api/field-errors.ts';
import type { RequestContext, Strategy } from '../types.ts';
import { configMapStrategy } from './configmaps.ts';
import { coreV1Strategies } from './index.ts';
import { endpointsStrategy } from './endpoints.ts';
import { eventStrategy } from './events.ts';
import { limitRangeStrategy } from './limitranges.ts';
import { namespaceStrategy } from './namespaces.ts';
import { nodeStrategy } from './nodes.ts';
import { persistentVolumeClaimStrategy, persistentVolumeStrategy } from './persistentvolumes.ts';
import { replicationControllerStrategy } from './replicationcontrollers.ts';
import { resourceQuotaStrategy } from './resourcequotas.ts';
import { secretStrategy } from './secrets.ts';
import { serviceAccountStrategy } from './serviceaccounts.ts';
import { podTemplateStrategy } from './podtemplates.ts';

const now = new Date('2024-05-01T12:00:00Z');
const ctx = { now, dryRun: false, user: { username: 'admin', groups: [] } } as unknown as RequestContext;
const created = '2024-05-01T10:00:00Z';

function create(st: Strategy, obj: KObject): KObject {
  const o = JSON.parse(JSON.stringify(obj)) as KObject;
  o.metadata.creationTimestamp ??= created;
  st.defaults?.(o);
  st.prepareForCreate?.(o, ctx);
  return o;
}
const msgs = (st: Strategy, o: KObject): string[] => (st.validate?.(o, ctx) ?? []).map(fieldErrorString);

test('every strategy has columns matching its row', () => {
  const names = new Set<string>();
  for (const st of coreV1Strategies) {
    assert.ok(!names.has(st.info.resource));
    names.add(st.info.resource);
    assert.ok(st.columns && st.row, st.info.resource);
  }
  assert.equal(names.size, 15);
});

test('namespace: defaults, finalizer, printer, deletion', () => {
  const ns = create(namespaceStrategy, { metadata: { name: 'dev' } });
  assert.deepEqual(ns.metadata.labels, { 'kubernetes.io/metadata.name': 'dev' });
  assert.deepEqual(ns['spec'], { finalizers: ['kubernetes'] });
  assert.deepEqual(ns['status'], { phase: 'Active' });
  assert.deepEqual(namespaceStrategy.row!(ns, now), ['dev', 'Active', '120m']);
  assert.equal(namespaceStrategy.holdsDeletion!(ns), true);
  namespaceStrategy.markDeleting!(ns);
  assert.equal((ns['status'] as { phase: string }).phase, 'Terminating');
  assert.equal(namespaceStrategy.nameValidation, 'label');
});

test('configmap: key validation and printer', () => {
  const cm = create(configMapStrategy, {
    metadata: { name: 'c', namespace: 'd' },
    data: { 'a b': 'x', ok: 'y' },
    binaryData: { z: 'AAAA' },
  });
  assert.deepEqual(msgs(configMapStrategy, cm), [
    "data[a b]: Invalid value: \"a b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
  ]);
  assert.deepEqual(configMapStrategy.row!(cm, now), ['c', 3, '120m']);
  const old = { ...cm, immutable: true };
  const upd = { ...cm, immutable: true, data: { ok: 'changed' } };
  assert.deepEqual(configMapStrategy.validateUpdate!(upd, old, ctx).map(fieldErrorString), [
    'data: Forbidden: field is immutable when `immutable` is set',
  ]);
});

test('secret: stringData, type default, size, printer, field selector', () => {
  const s = create(secretStrategy, {
    metadata: { name: 's', namespace: 'd' },
    stringData: { password: 'hunter2' },
  });
  assert.deepEqual(s['data'], { password: 'aHVudGVyMg==' });
  assert.equal(s['stringData'], undefined);
  assert.equal(s['type'], 'Opaque');
  assert.deepEqual(secretStrategy.row!(s, now), ['s', 'Opaque', 1, '120m']);
  assert.deepEqual(secretStrategy.fieldSelectors!(s), { type: 'Opaque' });
  const big = create(secretStrategy, {
    metadata: { name: 'b', namespace: 'd' },
    data: { k: Buffer.alloc(1024 * 1024 + 1).toString('base64') },
  });
  assert.deepEqual(msgs(secretStrategy, big), ['data: Too long: may not be more than 1048576 bytes']);
  const tls = create(secretStrategy, {
    metadata: { name: 't', namespace: 'd' },
    type: 'kubernetes.io/tls',
    data: {},
  });
  assert.deepEqual(msgs(secretStrategy, tls), [
    'data[tls.crt]: Required value',
    'data[tls.key]: Required value',
  ]);
  const changed = { ...s, type: 'kubernetes.io/tls' };
  assert.deepEqual(secretStrategy.validateUpdate!(changed, s, ctx).map(fieldErrorString), [
    'type: Invalid value: "kubernetes.io/tls": field is immutable',
  ]);
});

test('serviceaccount printer', () => {
  const sa = create(serviceAccountStrategy, { metadata: { name: 'default', namespace: 'd' } });
  assert.deepEqual(serviceAccountStrategy.row!(sa, now), ['default', 0, '120m']);
});

test('endpoints printer and validation', () => {
  const ep = create(endpointsStrategy, {
    metadata: { name: 'web', namespace: 'd' },
    subsets: [
      {
        addresses: [{ ip: '10.244.0.1' }, { ip: '10.244.0.2' }, { ip: '10.244.0.3' }, { ip: '10.244.0.4' }],
        ports: [{ port: 80 }, { port: 443, name: 'https' }],
      },
    ],
  });
  assert.deepEqual(endpointsStrategy.row!(ep, now), [
    'web',
    '10.244.0.1:80,10.244.0.2:80,10.244.0.3:80 + 5 more...',
    '120m',
  ]);
  assert.deepEqual(msgs(endpointsStrategy, ep), ['subsets[0].ports[0].name: Required value']);
  const bad = create(endpointsStrategy, {
    metadata: { name: 'x', namespace: 'd' },
    subsets: [{ addresses: [{ ip: '127.0.0.1' }, { ip: 'nope' }] }],
  });
  assert.deepEqual(msgs(endpointsStrategy, bad), [
    'subsets[0].addresses[0].ip: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
    'subsets[0].addresses[1].ip: Invalid value: "nope": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
  ]);
  assert.deepEqual(
    endpointsStrategy.row!(create(endpointsStrategy, { metadata: { name: 'e', namespace: 'd' } }), now)[1],
    '<none>',
  );
});

test('event printer and validation', () => {
  const ev = create(eventStrategy, {
    metadata: { name: 'web.1', namespace: 'd' },
    involvedObject: { kind: 'Pod', name: 'web', namespace: 'd', fieldPath: 'spec.containers{web}' },
    reason: 'Pulled',
    message: 'Container image "nginx" already present on machine ',
    type: 'Normal',
    source: { component: 'kubelet', host: 'node-1' },
    firstTimestamp: '2024-05-01T11:50:00Z',
    lastTimestamp: '2024-05-01T11:59:00Z',
    count: 3,
  });
  assert.deepEqual(eventStrategy.row!(ev, now), [
    '60s',
    'Normal',
    'Pulled',
    'pod/web',
    'spec.containers{web}',
    'kubelet, node-1',
    'Container image "nginx" already present on machine',
    '10m',
    3,
    'web.1',
  ]);
  assert.deepEqual(msgs(eventStrategy, ev), []);
  const wrongNs = create(eventStrategy, {
    metadata: { name: 'x', namespace: 'd' },
    involvedObject: { kind: 'Pod', name: 'p', namespace: 'other' },
  });
  assert.deepEqual(msgs(eventStrategy, wrongNs), [
    'involvedObject.namespace: Invalid value: "other": does not match event.namespace',
  ]);
  assert.equal(eventStrategy.fieldSelectors!(ev)['involvedObject.name'], 'web');
  assert.equal(eventStrategy.fieldSelectors!(ev)['source'], 'kubelet');
});

test('node printer', () => {
  const node = create(nodeStrategy, {
    metadata: {
      name: 'n1',
      labels: { 'node-role.kubernetes.io/control-plane': '', 'node-role.kubernetes.io/worker': '' },
    },
    spec: { unschedulable: true },
    status: {
      capacity: { cpu: '4', memory: '8Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True' }],
      addresses: [
        { type: 'InternalIP', address: '172.18.0.2' },
        { type: 'Hostname', address: 'n1' },
      ],
      nodeInfo: {
        kubeletVersion: 'v1.30.0',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        kernelVersion: '6.1.0',
        containerRuntimeVersion: 'containerd://1.7.0',
      },
    },
  });
  assert.deepEqual((node['status'] as { allocatable: unknown }).allocatable, {
    cpu: '4',
    memory: '8Gi',
    pods: '110',
  });
  assert.deepEqual(nodeStrategy.row!(node, now), [
    'n1',
    'Ready,SchedulingDisabled',
    'control-plane,worker',
    '120m',
    'v1.30.0',
    '172.18.0.2',
    '<none>',
    'Debian GNU/Linux 12 (bookworm)',
    '6.1.0',
    'containerd://1.7.0',
  ]);
  assert.deepEqual(nodeStrategy.fieldSelectors!(node), { 'spec.unschedulable': 'true' });
  const bare = create(nodeStrategy, { metadata: { name: 'n2' } });
  assert.deepEqual(nodeStrategy.row!(bare, now).slice(1, 3), ['Unknown', '<none>']);
});

test('replication controller defaults, validation, printer', () => {
  const rc = create(replicationControllerStrategy, {
    metadata: { name: 'web', namespace: 'd' },
    spec: {
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'web', image: 'nginx' }] },
      },
    },
  });
  const spec = rc['spec'] as Record<string, unknown>;
  assert.equal(spec['replicas'], 1);
  assert.deepEqual(spec['selector'], { app: 'web' });
  assert.deepEqual(rc.metadata.labels, { app: 'web' });
  assert.deepEqual(rc['status'], { replicas: 0 });
  assert.deepEqual(msgs(replicationControllerStrategy, rc), []);
  assert.deepEqual(replicationControllerStrategy.row!(rc, now), [
    'web',
    1,
    0,
    0,
    '120m',
    'web',
    'nginx',
    'app=web',
  ]);
  assert.equal(replicationControllerStrategy.scale!.selector(rc), 'app=web');
  const mismatch = JSON.parse(JSON.stringify(rc)) as KObject;
  (mismatch['spec'] as Record<string, unknown>)['selector'] = { app: 'other' };
  assert.deepEqual(msgs(replicationControllerStrategy, mismatch), [
    'spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`',
  ]);
});

test('persistent volumes and claims', () => {
  const pv = create(persistentVolumeStrategy, {
    metadata: { name: 'pv1' },
    spec: {
      capacity: { storage: '1Gi' },
      accessModes: ['ReadWriteOnce', 'ReadOnlyMany'],
      hostPath: { path: '/data' },
    },
  });
  const spec = pv['spec'] as Record<string, unknown>;
  assert.equal(spec['persistentVolumeReclaimPolicy'], 'Retain');
  assert.equal(spec['volumeMode'], 'Filesystem');
  assert.deepEqual(pv['status'], { phase: 'Pending', lastPhaseTransitionTime: '2024-05-01T12:00:00Z' });
  assert.deepEqual(msgs(persistentVolumeStrategy, pv), []);
  assert.deepEqual(persistentVolumeStrategy.row!(pv, now), [
    'pv1',
    '1Gi',
    'RWO,ROX',
    'Retain',
    'Pending',
    '',
    '',
    '<unset>',
    '',
    '120m',
    'Filesystem',
  ]);
  const noModes = create(persistentVolumeStrategy, {
    metadata: { name: 'pv2' },
    spec: { capacity: { storage: '1Gi' }, hostPath: { path: '/d' } },
  });
  assert.deepEqual(msgs(persistentVolumeStrategy, noModes), ['spec.accessModes: Required value']);

  const pvc = create(persistentVolumeClaimStrategy, {
    metadata: { name: 'data', namespace: 'd' },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
  });
  assert.equal((pvc['spec'] as { volumeMode: string }).volumeMode, 'Filesystem');
  assert.deepEqual(pvc['status'], { phase: 'Pending' });
  assert.deepEqual(msgs(persistentVolumeClaimStrategy, pvc), []);
  assert.deepEqual(persistentVolumeClaimStrategy.row!(pvc, now), [
    'data',
    'Pending',
    '',
    '',
    '',
    '',
    '<unset>',
    '120m',
    'Filesystem',
  ]);
  const noStorage = create(persistentVolumeClaimStrategy, {
    metadata: { name: 'x', namespace: 'd' },
    spec: { accessModes: ['ReadWriteOnce'] },
  });
  assert.deepEqual(msgs(persistentVolumeClaimStrategy, noStorage), [
    'spec.resources[storage]: Required value',
  ]);
  // Bound claims may grow but not change anything else.
  const bound = JSON.parse(JSON.stringify(pvc)) as KObject;
  (bound['spec'] as Record<string, unknown>)['volumeName'] = 'pv1';
  bound['status'] = { phase: 'Bound' };
  const grow = JSON.parse(JSON.stringify(bound)) as KObject;
  (grow['spec'] as { resources: { requests: { storage: string } } }).resources.requests.storage = '2Gi';
  assert.deepEqual(persistentVolumeClaimStrategy.validateUpdate!(grow, bound, ctx), []);
  const shrink = JSON.parse(JSON.stringify(bound)) as KObject;
  (shrink['spec'] as { resources: { requests: { storage: string } } }).resources.requests.storage = '500Mi';
  assert.deepEqual(persistentVolumeClaimStrategy.validateUpdate!(shrink, bound, ctx).map(fieldErrorString), [
    'spec.resources.requests.storage: Forbidden: field can not be less than previous value',
  ]);
  const modes = JSON.parse(JSON.stringify(bound)) as KObject;
  (modes['spec'] as Record<string, unknown>)['accessModes'] = ['ReadWriteMany'];
  assert.deepEqual(persistentVolumeClaimStrategy.validateUpdate!(modes, bound, ctx).map(fieldErrorString), [
    'spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims',
  ]);
});

test('limit range defaults and validation', () => {
  const lr = create(limitRangeStrategy, {
    metadata: { name: 'l', namespace: 'd' },
    spec: {
      limits: [{ type: 'Container', max: { cpu: '2' }, min: { cpu: '100m' }, default: { memory: '512Mi' } }],
    },
  });
  assert.deepEqual((lr['spec'] as { limits: unknown[] }).limits[0], {
    type: 'Container',
    max: { cpu: '2' },
    min: { cpu: '100m' },
    default: { memory: '512Mi', cpu: '2' },
    defaultRequest: { memory: '512Mi', cpu: '2' },
  });
  assert.deepEqual(msgs(limitRangeStrategy, lr), []);
  assert.deepEqual(limitRangeStrategy.row!(lr, now), ['l', created]);
  const bad = create(limitRangeStrategy, {
    metadata: { name: 'l', namespace: 'd' },
    spec: { limits: [{ type: 'Pod', min: { cpu: '2' }, max: { cpu: '1' } }] },
  });
  assert.deepEqual(msgs(limitRangeStrategy, bad), [
    'spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1',
  ]);
});

test('resource quota validation and printer', () => {
  const rq = create(resourceQuotaStrategy, {
    metadata: { name: 'q', namespace: 'd' },
    spec: { hard: { pods: '10', 'limits.cpu': '4', 'requests.memory': '1Gi' } },
  });
  assert.deepEqual(rq['status'], {});
  assert.deepEqual(msgs(resourceQuotaStrategy, rq), []);
  rq['status'] = {
    hard: { pods: '10', 'limits.cpu': '4', 'requests.memory': '1Gi' },
    used: { pods: '2', 'limits.cpu': '500m' },
  };
  assert.deepEqual(resourceQuotaStrategy.row!(rq, now), [
    'q',
    '120m',
    'pods: 2/10, requests.memory: 0/1Gi',
    'limits.cpu: 500m/4',
  ]);
  const bad = create(resourceQuotaStrategy, {
    metadata: { name: 'q', namespace: 'd' },
    spec: { hard: { pods: 'lots', widgets: '1' } },
  });
  assert.deepEqual(msgs(resourceQuotaStrategy, bad), [
    'spec.hard[pods]: Invalid value: "lots": quantities must match the regular expression \'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$\'',
    'spec.hard[widgets]: Invalid value: "widgets": must be a standard resource type or fully qualified',
  ]);
});

test('pod template printer', () => {
  const pt = create(podTemplateStrategy, {
    metadata: { name: 't', namespace: 'd' },
    template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'a', image: 'nginx' }] } },
  });
  assert.deepEqual(msgs(podTemplateStrategy, pt), []);
  assert.deepEqual(podTemplateStrategy.row!(pt, now), ['t', 'a', 'nginx', 'app=x']);
});
