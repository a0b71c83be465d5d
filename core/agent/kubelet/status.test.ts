import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ContainerState, PodCondition } from 'kubernetes-types/core/v1';
import type { KObject } from '../../api/object.ts';
import type { CriContainerStatus } from '../cri/types.ts';
import {
  computePodStatus,
  type ContainerView,
  criContainerState,
  mergeConditions,
  podPhase,
  type PodView,
  statusChanged,
} from './status.ts';

const pod = (spec: Record<string, unknown>, status: Record<string, unknown> = {}): KObject => ({
  metadata: { name: 'p', namespace: 'ns', uid: 'u1' },
  spec: { containers: [{ name: 'c' }], ...spec },
  status,
});

const cv = (name: string, state: ContainerState, extra: Partial<ContainerView> = {}): ContainerView => ({
  name,
  image: 'img',
  imageID: '',
  state,
  lastState: {},
  ready: false,
  started: false,
  restartCount: 0,
  ...extra,
});

const running: ContainerState = { running: { startedAt: '2026-01-01T00:00:00Z' } };
const exited = (exitCode: number): ContainerState => ({
  terminated: { exitCode, reason: exitCode ? 'Error' : 'Completed' },
});
const waiting = (reason: string): ContainerState => ({ waiting: { reason } });

describe('pod phase (getPhase)', () => {
  test('pending while init containers have not succeeded; failed with Never', () => {
    const p = pod({ restartPolicy: 'Never' });
    assert.equal(
      podPhase(p, { init: [cv('i', running)], containers: [cv('c', waiting('PodInitializing'))] }),
      'Pending',
    );
    assert.equal(
      podPhase(p, { init: [cv('i', exited(1))], containers: [cv('c', waiting('PodInitializing'))] }),
      'Failed',
    );
    const always = pod({});
    assert.equal(
      podPhase(always, {
        init: [cv('i', waiting('CrashLoopBackOff'), { lastState: exited(1) })],
        containers: [cv('c', waiting('PodInitializing'))],
      }),
      'Pending',
    );
  });

  test('per restartPolicy once containers stopped', () => {
    const both = (a: ContainerState, b: ContainerState) => ({
      init: [],
      containers: [cv('a', a), cv('b', b)],
    });
    assert.equal(podPhase(pod({}), both(running, waiting('ContainerCreating'))), 'Pending');
    assert.equal(podPhase(pod({}), both(running, exited(0))), 'Running');
    assert.equal(podPhase(pod({ restartPolicy: 'Always' }), both(exited(0), exited(0))), 'Running');
    assert.equal(podPhase(pod({ restartPolicy: 'OnFailure' }), both(exited(0), exited(0))), 'Succeeded');
    assert.equal(podPhase(pod({ restartPolicy: 'OnFailure' }), both(exited(0), exited(2))), 'Running');
    assert.equal(podPhase(pod({ restartPolicy: 'Never' }), both(exited(0), exited(2))), 'Failed');
    assert.equal(podPhase(pod({ restartPolicy: 'Never' }), both(exited(0), exited(0))), 'Succeeded');
    // CrashLoopBackOff counts as stopped, not waiting.
    assert.equal(
      podPhase(pod({}), {
        init: [],
        containers: [cv('a', waiting('CrashLoopBackOff'), { lastState: exited(1) })],
      }),
      'Running',
    );
  });
});

describe('conditions and status', () => {
  const view = (over: Partial<PodView> = {}): PodView => ({
    sandboxReady: true,
    podIPs: ['10.244.0.5'],
    hostIP: '172.29.0.2',
    init: [],
    containers: [cv('c', running, { ready: true, started: true })],
    qosClass: 'BestEffort',
    startTime: '2026-01-01T00:00:00Z',
    ...over,
  });

  test('ready pod: all True, kubelet order, PodScheduled kept', () => {
    const p = pod({}, { conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: 'T0' }] });
    const s = computePodStatus(p, view(), new Date('2026-01-01T00:00:05Z'));
    assert.deepEqual(
      s.conditions?.map((c) => [c.type, c.status]),
      [
        ['PodReadyToStartContainers', 'True'],
        ['Initialized', 'True'],
        ['Ready', 'True'],
        ['ContainersReady', 'True'],
        ['PodScheduled', 'True'],
      ],
    );
    assert.equal(s.phase, 'Running');
    assert.equal(s.podIP, '10.244.0.5');
    assert.deepEqual(s.podIPs, [{ ip: '10.244.0.5' }]);
    assert.deepEqual(s.hostIPs, [{ ip: '172.29.0.2' }]);
    assert.equal(s.qosClass, 'BestEffort');
    assert.equal(s.initContainerStatuses, undefined);
  });

  test('unready containers and incomplete init name the containers', () => {
    const s = computePodStatus(
      pod({}),
      view({ containers: [cv('a', running), cv('b', running, { ready: true })] }),
    );
    const ready = s.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'False');
    assert.equal(ready?.reason, 'ContainersNotReady');
    assert.equal(ready?.message, 'containers with unready status: [a]');
    const s2 = computePodStatus(pod({}), view({ init: [cv('i1', exited(0)), cv('i2', running)] }));
    const init = s2.conditions?.find((c) => c.type === 'Initialized');
    assert.equal(init?.reason, 'ContainersNotInitialized');
    assert.equal(init?.message, 'containers with incomplete status: [i2]');
    assert.equal(s2.phase, 'Pending');
  });

  test('readiness gates', () => {
    const p = pod(
      { readinessGates: [{ conditionType: 'example.com/gate' }] },
      { conditions: [{ type: 'example.com/gate', status: 'False' }] },
    );
    const s = computePodStatus(p, view());
    const ready = s.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'False');
    assert.equal(ready?.reason, 'ReadinessGatesNotReady');
    assert.equal(s.conditions?.find((c) => c.type === 'ContainersReady')?.status, 'True');
    assert.ok(
      s.conditions?.some((c) => c.type === 'example.com/gate'),
      'foreign conditions kept',
    );
  });

  test('lastTransitionTime only changes with the status', () => {
    const old: PodCondition[] = [{ type: 'Ready', status: 'False', lastTransitionTime: 'T0' }];
    const same = mergeConditions(old, [['Ready', { status: 'False', reason: 'X' }]], 'T1');
    assert.equal(same[0]?.lastTransitionTime, 'T0');
    const flipped = mergeConditions(old, [['Ready', { status: 'True' }]], 'T1');
    assert.equal(flipped[0]?.lastTransitionTime, 'T1');
  });

  test('terminal failure keeps its reason; succeeded pods are PodCompleted', () => {
    const s = computePodStatus(
      pod({}),
      view({
        failure: {
          reason: 'DeadlineExceeded',
          message: 'Pod was active on the node longer than the specified deadline',
        },
      }),
    );
    assert.equal(s.phase, 'Failed');
    assert.equal(s.reason, 'DeadlineExceeded');
    const done = computePodStatus(
      pod({ restartPolicy: 'Never' }),
      view({ containers: [cv('c', exited(0))] }),
    );
    assert.equal(done.phase, 'Succeeded');
    assert.equal(done.conditions?.find((c) => c.type === 'Ready')?.reason, 'PodCompleted');
  });

  test('statusChanged ignores key order only', () => {
    assert.equal(statusChanged({ a: 1, b: { c: 2, d: 3 } }, { b: { d: 3, c: 2 }, a: 1 }), false);
    assert.equal(statusChanged({ a: [1, 2] }, { a: [2, 1] }), true);
  });
});

describe('container states from CRI', () => {
  const base: CriContainerStatus = {
    id: 'abc',
    state: 'CONTAINER_EXITED',
    createdAt: 1_700_000_000_000_000_000,
    startedAt: 1_700_000_001_000_000_000,
    finishedAt: 1_700_000_002_000_000_000,
    exitCode: 137,
    imageRef: 'sha256:x',
    reason: 'OOMKilled',
    message: '',
    labels: {},
    annotations: {},
    mounts: [],
    logPath: '',
    imageId: '',
  };

  test('terminated with the runtime reason, the termination message and times', () => {
    const s = criContainerState(base, 'bye\n');
    assert.deepEqual(s.terminated, {
      exitCode: 137,
      reason: 'OOMKilled',
      message: 'bye\n',
      startedAt: '2023-11-14T22:13:21Z',
      finishedAt: '2023-11-14T22:13:22Z',
      containerID: 'containerd://abc',
    });
  });

  test('Completed / Error when the runtime gives no reason; running', () => {
    assert.equal(criContainerState({ ...base, reason: '', exitCode: 0 }).terminated?.reason, 'Completed');
    assert.equal(criContainerState({ ...base, reason: '', exitCode: 143 }).terminated?.reason, 'Error');
    assert.deepEqual(criContainerState({ ...base, state: 'CONTAINER_RUNNING' }), {
      running: { startedAt: '2023-11-14T22:13:21Z' },
    });
  });
});

// ---- native sidecars and ephemeral containers ----

const withSidecar = (spec: Record<string, unknown>): KObject =>
  pod({ initContainers: [{ name: 'log', restartPolicy: 'Always' }, { name: 'setup' }], ...spec });
const done = exited(0);
const up = { ready: true, started: true };

const sview = (over: Partial<PodView>): PodView => ({
  sandboxReady: true,
  podIPs: ['10.244.0.5'],
  hostIP: '172.29.0.2',
  init: [],
  containers: [],
  qosClass: 'BestEffort',
  startTime: '2026-01-01T00:00:00Z',
  ...over,
});
const cond = (s: ReturnType<typeof computePodStatus>, type: string): string | undefined =>
  s.conditions?.find((c) => c.type === type)?.status;

describe('pod status with sidecars', () => {
  test('a running, started sidecar does not hold initialization; the pod runs with it', () => {
    const p = withSidecar({});
    const v = sview({
      init: [cv('log', running, up), cv('setup', done)],
      containers: [cv('c', running, up)],
    });
    assert.equal(podPhase(p, v), 'Running');
    const s = computePodStatus(p, v);
    assert.equal(cond(s, 'Initialized'), 'True');
    assert.equal(cond(s, 'Ready'), 'True');
    assert.equal(s.initContainerStatuses?.[0]?.started, true);
    assert.equal(s.initContainerStatuses?.[0]?.ready, true);
  });

  test('a sidecar not yet started keeps the pod Pending and not initialized', () => {
    const p = withSidecar({});
    const v = sview({
      init: [cv('log', running, { started: false }), cv('setup', waiting('PodInitializing'))],
      containers: [cv('c', waiting('PodInitializing'))],
    });
    assert.equal(podPhase(p, v), 'Pending');
    const s = computePodStatus(p, v);
    assert.equal(cond(s, 'Initialized'), 'False');
    assert.match(s.conditions?.find((c) => c.type === 'Initialized')?.message ?? '', /\[log setup\]/);
  });

  test('an unready sidecar makes the pod unready', () => {
    const v = sview({
      init: [cv('log', running, { started: true, ready: false }), cv('setup', done)],
      containers: [cv('c', running, up)],
    });
    const s = computePodStatus(withSidecar({}), v);
    assert.equal(cond(s, 'Ready'), 'False');
    assert.match(s.conditions?.find((c) => c.type === 'ContainersReady')?.message ?? '', /\[log\]/);
  });

  test('a Job pod succeeds when its main containers did, its sidecar still running or restarting', () => {
    const p = withSidecar({ restartPolicy: 'Never' });
    for (const side of [running, waiting('CrashLoopBackOff')])
      assert.equal(
        podPhase(p, { init: [cv('log', side, up), cv('setup', done)], containers: [cv('c', done)] }),
        'Succeeded',
      );
  });

  test('a restarting sidecar does not send an initialized pod back to Pending', () => {
    const v = sview({
      init: [cv('log', waiting('CrashLoopBackOff'), { lastState: done }), cv('setup', done)],
      containers: [cv('c', running, up)],
    });
    assert.equal(podPhase(withSidecar({}), v), 'Running');
    assert.equal(cond(computePodStatus(withSidecar({}), v), 'Initialized'), 'True');
  });
});

describe('ephemeral container statuses', () => {
  test('reported when the pod has ephemeral containers, removed when not', () => {
    const p = withSidecar({ initContainers: [] });
    const v = sview({
      containers: [cv('c', running, up)],
      ephemeral: [cv('debugger', running, { started: true })],
    });
    const s = computePodStatus(p, v);
    assert.deepEqual(
      s.ephemeralContainerStatuses?.map((e) => [e.name, !!e.state?.running, e.ready]),
      [['debugger', true, false]],
    );
    const again = computePodStatus({ ...p, status: s }, sview({ containers: [cv('c', running, up)] }));
    assert.equal(again.ephemeralContainerStatuses, undefined);
  });
});
