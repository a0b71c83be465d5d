import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import { fieldErrorString } from '../../api/field-errors.ts';
import type { RequestContext } from '../types.ts';
import { computePodQOS, podStrategy, serviceAccountAdmission } from './pods.ts';
import { defaultPodTemplateSpec, podSpecContainersSummary, validatePodTemplateSpec } from './pod-spec.ts';

const now = new Date('2024-05-01T12:00:00Z');
const ctx = { now, dryRun: false, user: { username: 'admin', groups: [] } } as unknown as RequestContext;

function create(pod: KObject): KObject {
  const obj = JSON.parse(JSON.stringify(pod)) as KObject;
  podStrategy.defaults!(obj);
  podStrategy.prepareForCreate!(obj, ctx);
  return obj;
}

const minimal = (): KObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'nginx', namespace: 'default' },
  spec: { containers: [{ name: 'nginx', image: 'nginx' }] },
});

test('a minimal pod is stored as a real cluster stores it', () => {
  const obj = create(minimal());
  serviceAccountAdmission(obj, { metadata: { name: 'default' } });
  const spec = obj['spec'] as Record<string, unknown>;
  const vol = (spec['volumes'] as { name: string }[])[0]!;
  assert.match(vol.name, /^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  assert.deepEqual(spec, {
    containers: [
      {
        image: 'nginx',
        imagePullPolicy: 'Always',
        name: 'nginx',
        resources: {},
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
        volumeMounts: [
          { mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', name: vol.name, readOnly: true },
        ],
      },
    ],
    dnsPolicy: 'ClusterFirst',
    enableServiceLinks: true,
    preemptionPolicy: 'PreemptLowerPriority',
    priority: 0,
    restartPolicy: 'Always',
    schedulerName: 'default-scheduler',
    securityContext: {},
    serviceAccount: 'default',
    serviceAccountName: 'default',
    terminationGracePeriodSeconds: 30,
    tolerations: [
      {
        effect: 'NoExecute',
        key: 'node.kubernetes.io/not-ready',
        operator: 'Exists',
        tolerationSeconds: 300,
      },
      {
        effect: 'NoExecute',
        key: 'node.kubernetes.io/unreachable',
        operator: 'Exists',
        tolerationSeconds: 300,
      },
    ],
    volumes: [
      {
        name: vol.name,
        projected: {
          defaultMode: 420,
          sources: [
            { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
            { configMap: { items: [{ key: 'ca.crt', path: 'ca.crt' }], name: 'kube-root-ca.crt' } },
            {
              downwardAPI: {
                items: [
                  { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' }, path: 'namespace' },
                ],
              },
            },
          ],
        },
      },
    ],
  });
  assert.deepEqual(obj['status'], { phase: 'Pending', qosClass: 'BestEffort' });
  assert.deepEqual(podStrategy.validate!(obj, ctx), []);
});

test('container, probe and volume defaults', () => {
  const obj = create({
    metadata: { name: 'p', namespace: 'default' },
    spec: {
      containers: [
        {
          name: 'a',
          image: 'nginx:1.25',
          ports: [{ containerPort: 80 }],
          livenessProbe: { httpGet: { port: 80 } },
          resources: { limits: { cpu: '1', memory: '1Gi' } },
          env: [{ name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
        },
      ],
      volumes: [
        { name: 'cfg', configMap: { name: 'c' } },
        { name: 'scratch' },
        { name: 'h', hostPath: { path: '/x' } },
      ],
    },
  });
  const c = (obj['spec'] as { containers: Record<string, unknown>[] }).containers[0]!;
  assert.equal(c['imagePullPolicy'], 'IfNotPresent');
  assert.deepEqual(c['ports'], [{ containerPort: 80, protocol: 'TCP' }]);
  assert.deepEqual(c['livenessProbe'], {
    httpGet: { port: 80, path: '/', scheme: 'HTTP' },
    timeoutSeconds: 1,
    periodSeconds: 10,
    successThreshold: 1,
    failureThreshold: 3,
  });
  assert.deepEqual(c['resources'], {
    limits: { cpu: '1', memory: '1Gi' },
    requests: { cpu: '1', memory: '1Gi' },
  });
  assert.deepEqual(c['env'], [
    { name: 'NODE', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } },
  ]);
  assert.deepEqual((obj['spec'] as { volumes: unknown }).volumes, [
    { name: 'cfg', configMap: { name: 'c', defaultMode: 420 } },
    { name: 'scratch', emptyDir: {} },
    { name: 'h', hostPath: { path: '/x', type: '' } },
  ]);
  assert.equal((obj['status'] as { qosClass: string }).qosClass, 'Guaranteed');
});

test('QoS classes', () => {
  assert.equal(computePodQOS({ containers: [{ name: 'a' }] }), 'BestEffort');
  assert.equal(
    computePodQOS({ containers: [{ name: 'a', resources: { requests: { cpu: '100m' } } }] }),
    'Burstable',
  );
  assert.equal(
    computePodQOS({
      containers: [
        {
          name: 'a',
          resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } },
        },
      ],
    }),
    'Guaranteed',
  );
  assert.equal(
    computePodQOS({
      containers: [
        {
          name: 'a',
          resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } },
        },
      ],
    }),
    'Burstable',
  );
});

const messages = (obj: KObject): string[] => podStrategy.validate!(obj, ctx).map(fieldErrorString);

test('validation messages match Kubernetes', () => {
  const noContainers = create({ metadata: { name: 'p', namespace: 'default' }, spec: { containers: [] } });
  assert.deepEqual(messages(noContainers), ['spec.containers: Required value']);

  const bad = create({
    metadata: { name: 'p', namespace: 'default' },
    spec: {
      restartPolicy: 'Sometimes',
      containers: [
        { name: 'Web', image: 'nginx', ports: [{ containerPort: 70000 }] },
        {
          name: 'b',
          image: '',
          resources: { requests: { cpu: '2' }, limits: { cpu: '1' } },
          volumeMounts: [{ name: 'nope', mountPath: '/x' }],
        },
        { name: 'b', image: 'x' },
      ],
    },
  });
  const got = messages(bad);
  assert.ok(
    got.includes(
      "spec.containers[0].name: Invalid value: \"Web\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    ) ||
      got.includes(
        "spec.containers[0].name: Invalid value: \"Web\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name' or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
      ),
    got.join('\n'),
  );
  for (const want of [
    'spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
    'spec.containers[1].image: Required value',
    'spec.containers[1].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1',
    'spec.containers[1].volumeMounts[0].name: Not found: "nope"',
    'spec.containers[2].name: Duplicate value: "b"',
    'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
  ])
    assert.ok(got.includes(want), `missing ${want}\n${got.join('\n')}`);
});

test('pod updates may only change the image and a few other fields', () => {
  const old = create(minimal());
  const img = JSON.parse(JSON.stringify(old)) as KObject;
  (img['spec'] as { containers: { image: string }[] }).containers[0]!.image = 'nginx:1.27';
  podStrategy.defaults!(img);
  assert.deepEqual(podStrategy.validateUpdate!(img, old, ctx), []);

  const changed = JSON.parse(JSON.stringify(old)) as KObject;
  (changed['spec'] as { restartPolicy: string }).restartPolicy = 'Never';
  const errs = podStrategy.validateUpdate!(changed, old, ctx).map(fieldErrorString);
  assert.equal(errs.length, 1);
  assert.ok(
    errs[0]!.startsWith(
      'spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n',
    ),
    errs[0] ?? '',
  );
});

test('printPod cells', () => {
  const pod = create(minimal());
  pod.metadata.creationTimestamp = '2024-05-01T11:55:00Z';
  assert.deepEqual(podStrategy.row!(pod, now), [
    'nginx',
    '0/1',
    'Pending',
    '0',
    '5m',
    '<none>',
    '<none>',
    '<none>',
    '<none>',
  ]);

  pod['status'] = {
    phase: 'Running',
    podIP: '10.244.1.5',
    podIPs: [{ ip: '10.244.1.5' }],
    conditions: [{ type: 'Ready', status: 'True' }],
    containerStatuses: [
      {
        name: 'nginx',
        ready: true,
        restartCount: 2,
        state: { running: { startedAt: '2024-05-01T11:58:00Z' } },
        lastState: { terminated: { exitCode: 1, finishedAt: '2024-05-01T11:57:00Z' } },
      },
    ],
  };
  (pod['spec'] as { nodeName: string }).nodeName = 'node-1';
  assert.deepEqual(podStrategy.row!(pod, now), [
    'nginx',
    '1/1',
    'Running',
    '2 (3m ago)',
    '5m',
    '10.244.1.5',
    'node-1',
    '<none>',
    '<none>',
  ]);

  pod['status'] = {
    phase: 'Pending',
    containerStatuses: [
      { name: 'nginx', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } },
    ],
  };
  assert.equal(podStrategy.row!(pod, now)[2], 'ContainerCreating');
  pod['status'] = {
    phase: 'Running',
    containerStatuses: [
      { name: 'nginx', ready: false, restartCount: 5, state: { waiting: { reason: 'CrashLoopBackOff' } } },
    ],
  };
  assert.equal(podStrategy.row!(pod, now)[2], 'CrashLoopBackOff');
  pod['status'] = {
    phase: 'Succeeded',
    containerStatuses: [
      {
        name: 'nginx',
        ready: false,
        restartCount: 0,
        state: { terminated: { exitCode: 0, reason: 'Completed' } },
      },
    ],
  };
  assert.equal(podStrategy.row!(pod, now)[2], 'Completed');
  pod['status'] = { phase: 'Running' };
  pod.metadata.deletionTimestamp = '2024-05-01T12:00:30Z';
  assert.equal(podStrategy.row!(pod, now)[2], 'Terminating');
});

test('init container status', () => {
  const pod = create({
    metadata: { name: 'p', namespace: 'default', creationTimestamp: '2024-05-01T12:00:00Z' },
    spec: {
      initContainers: [
        { name: 'i1', image: 'busybox' },
        { name: 'i2', image: 'busybox' },
      ],
      containers: [{ name: 'c', image: 'x' }],
    },
  });
  pod['status'] = {
    phase: 'Pending',
    initContainerStatuses: [
      {
        name: 'i1',
        ready: false,
        restartCount: 0,
        state: { terminated: { exitCode: 0, reason: 'Completed' } },
      },
      { name: 'i2', ready: false, restartCount: 0, state: { running: {} } },
    ],
  };
  assert.equal(podStrategy.row!(pod, now)[2], 'Init:1/2');
});

test('grace period semantics', () => {
  const pod = create(minimal());
  assert.equal(podStrategy.gracePeriod!(pod, undefined), 0); // not scheduled
  (pod['spec'] as { nodeName: string }).nodeName = 'n1';
  assert.equal(podStrategy.gracePeriod!(pod, undefined), 30);
  assert.equal(podStrategy.gracePeriod!(pod, 5), 5);
  (pod['status'] as { phase: string }).phase = 'Succeeded';
  assert.equal(podStrategy.gracePeriod!(pod, 5), 0);
});

test('field selectors', () => {
  const pod = create(minimal());
  assert.deepEqual(podStrategy.fieldSelectors!(pod), {
    'spec.nodeName': '',
    'spec.restartPolicy': 'Always',
    'spec.schedulerName': 'default-scheduler',
    'spec.serviceAccountName': '',
    'spec.hostNetwork': 'false',
    'status.phase': 'Pending',
    'status.podIP': '',
    'status.nominatedNodeName': '',
  });
});

test('pod templates: defaults, validation and summary', () => {
  const tpl = {
    metadata: { labels: { app: 'web' } },
    spec: {
      containers: [
        { name: 'a', image: 'nginx:1' },
        { name: 'b', image: 'busybox' },
      ],
    },
  };
  defaultPodTemplateSpec(tpl);
  assert.deepEqual(tpl.metadata, { labels: { app: 'web' }, creationTimestamp: null });
  assert.equal((tpl.spec as { enableServiceLinks?: boolean }).enableServiceLinks, undefined);
  assert.deepEqual(validatePodTemplateSpec(tpl, 'spec.template'), []);
  assert.deepEqual(podSpecContainersSummary(tpl.spec), { names: 'a,b', images: 'nginx:1,busybox' });
  const bad = { metadata: { labels: { 'a b': 'x' } }, spec: { containers: [{ name: 'a', image: 'x' }] } };
  defaultPodTemplateSpec(bad);
  assert.equal(validatePodTemplateSpec(bad, 'spec.template')[0]?.field, 'spec.template.metadata.labels');
});
