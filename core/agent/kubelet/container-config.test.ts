import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Container } from 'kubernetes-types/core/v1';
import type { KObject } from '../../api/object.ts';
import { containerConfig, tailCriLog } from './container-config.ts';

const pod: KObject = {
  metadata: { name: 'p', namespace: 'ns', uid: 'u1' },
  spec: { containers: [] },
};

describe('container config', () => {
  const c: Container = {
    name: 'web',
    image: 'localhost/berth/busybox:1.35',
    command: ['sh', '-c'],
    args: ['echo $(GREETING) $(MISSING)'],
    workingDir: '/www',
    terminationMessagePath: '/tmp/term',
    volumeMounts: [{ name: 'data', mountPath: '/data', readOnly: true }],
    resources: { limits: { memory: '64Mi', cpu: '500m' } },
    tty: true,
  };
  const cfg = containerConfig({
    pod,
    container: c,
    attempt: 2,
    env: [{ key: 'GREETING', value: 'hi' }],
    volumes: new Map([['data', { hostPath: '/var/lib/berth/pods/u1/volumes/x/data', readOnly: false }]]),
    hostsFile: '/var/lib/berth/pods/u1/etc-hosts',
    terminationFile: '/var/lib/berth/pods/u1/containers/web/2',
    image: undefined,
    memoryCapacity: 2 * 1024 ** 3,
  });

  test('command = entrypoint override, args = cmd, $(VAR) expanded', () => {
    assert.deepEqual(cfg.command, ['sh', '-c']);
    assert.deepEqual(cfg.args, ['echo hi $(MISSING)']);
    assert.equal(cfg.workingDir, '/www');
    assert.equal(cfg.tty, true);
  });

  test('log path, metadata, labels and annotations', () => {
    assert.equal(cfg.logPath, 'web/2.log');
    assert.deepEqual(cfg.metadata, { name: 'web', attempt: 2 });
    assert.equal(cfg.labels?.['io.kubernetes.container.name'], 'web');
    assert.equal(cfg.labels?.['io.kubernetes.pod.uid'], 'u1');
    assert.equal(cfg.annotations?.['io.kubernetes.container.restartCount'], '2');
    assert.equal(cfg.image.userSpecifiedImage, 'localhost/berth/busybox:1.35');
  });

  test('mounts: the volume, /etc/hosts and the termination message file', () => {
    assert.deepEqual(cfg.mounts, [
      {
        containerPath: '/data',
        hostPath: '/var/lib/berth/pods/u1/volumes/x/data',
        readonly: true,
        propagation: 'PROPAGATION_PRIVATE',
      },
      { containerPath: '/etc/hosts', hostPath: '/var/lib/berth/pods/u1/etc-hosts' },
      { containerPath: '/tmp/term', hostPath: '/var/lib/berth/pods/u1/containers/web/2' },
    ]);
  });

  test('resources from the limits', () => {
    assert.equal(cfg.linux?.resources?.memoryLimitInBytes, 64 * 1024 * 1024);
    assert.equal(cfg.linux?.resources?.cpuQuota, 50_000);
  });
});

describe('FallbackToLogsOnError', () => {
  test('the last lines of a CRI log, partial lines joined', () => {
    const log = [
      '2026-01-01T00:00:00.000000000Z stdout F first',
      '2026-01-01T00:00:00.100000000Z stderr P par',
      '2026-01-01T00:00:00.200000000Z stderr F tial',
      '',
    ].join('\n');
    assert.equal(tailCriLog(log), 'first\npartial\n');
    assert.equal(tailCriLog(log, 1), 'partial\n');
    assert.equal(tailCriLog(log, 80, 4), 'ial\n');
    assert.equal(tailCriLog(''), '');
  });
});

describe('ephemeral container target', () => {
  const inputs = (spec: Record<string, unknown>, targetId?: string) =>
    containerConfig({
      pod: { metadata: { name: 'p', namespace: 'ns', uid: 'u1' }, spec: { containers: [], ...spec } },
      container: { name: 'debugger', image: 'busybox' },
      attempt: 0,
      env: [],
      volumes: new Map(),
      hostsFile: '/h',
      terminationFile: '/t',
      image: undefined,
      ...(targetId ? { targetId } : {}),
    }).linux?.securityContext?.namespaceOptions;

  test("joins the target's PID namespace unless the pod shares one", () => {
    assert.deepEqual(inputs({}, 'abc'), { network: 'POD', pid: 'TARGET', ipc: 'POD', targetId: 'abc' });
    assert.equal(inputs({})?.pid, 'CONTAINER');
    assert.equal(inputs({ shareProcessNamespace: true }, 'abc')?.pid, 'POD');
    assert.equal(inputs({ hostPID: true }, 'abc')?.pid, 'NODE');
  });
});
