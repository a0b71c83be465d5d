import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PodSpec } from 'kubernetes-types/core/v1';
import type { CheckResult } from './check-helpers.ts';
import { RESTRICTED_CHECKS } from './checks-restricted.ts';

function run(id: string, spec: Partial<PodSpec>, minor = Infinity): CheckResult {
  const check = RESTRICTED_CHECKS.find((c) => c.id === id);
  assert.ok(check, id);
  const rev = [...check.versions].reverse().find((v) => v.minimumMinor <= minor);
  assert.ok(rev, `${id} at 1.${minor}`);
  return rev.checkPod({}, { containers: [], ...spec } as PodSpec);
}

const sc = (name: string, securityContext?: Record<string, unknown>) => ({
  name,
  image: 'nginx',
  ...(securityContext ? { securityContext } : {}),
});

/** A container that satisfies every restricted check. */
const good = (name: string) =>
  sc(name, {
    allowPrivilegeEscalation: false,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] },
    seccompProfile: { type: 'RuntimeDefault' },
  });

test('a fully restricted pod passes every restricted check', () => {
  for (const check of RESTRICTED_CHECKS) {
    const spec = {
      containers: [good('a')],
      initContainers: [good('i')],
      volumes: [
        { name: 'cm', configMap: { name: 'x' } },
        { name: 'pvc', persistentVolumeClaim: { claimName: 'c' } },
        { name: 'img', image: { reference: 'busybox' } },
        { name: 'proj', projected: { sources: [] } },
      ],
    } as unknown as Partial<PodSpec>;
    assert.equal(run(check.id, spec).allowed, true, check.id);
  }
});

test('allowPrivilegeEscalation must be false on every container', () => {
  const r = run('allowPrivilegeEscalation', {
    containers: [sc('a'), good('b'), sc('c', { allowPrivilegeEscalation: true })],
  });
  assert.deepEqual(r, {
    allowed: false,
    forbiddenReason: 'allowPrivilegeEscalation != false',
    forbiddenDetail: 'containers "a", "c" must set securityContext.allowPrivilegeEscalation=false',
  });
  // Windows pods are exempt from policy 1.25 on.
  const windows = { os: { name: 'windows' }, containers: [sc('a')] };
  assert.equal(run('allowPrivilegeEscalation', windows).allowed, true);
  assert.equal(run('allowPrivilegeEscalation', windows, 24).allowed, false);
});

test('capabilities must drop ALL and add at most NET_BIND_SERVICE', () => {
  const r = run('capabilities_restricted', {
    containers: [sc('a'), sc('b', { capabilities: { drop: ['ALL'], add: ['SYS_ADMIN', 'NET_RAW'] } })],
  });
  assert.equal(r.forbiddenReason, 'unrestricted capabilities');
  assert.equal(
    r.forbiddenDetail,
    'container "a" must set securityContext.capabilities.drop=["ALL"]; container "b" must not include "NET_RAW", "SYS_ADMIN" in securityContext.capabilities.add',
  );
});

test('restricted volume types', () => {
  const r = run('restrictedVolumes', {
    volumes: [
      { name: 'h', hostPath: { path: '/' } },
      { name: 'ok', emptyDir: {} },
      { name: 'n', nfs: { server: 's', path: '/' } },
      { name: 'h2', hostPath: { path: '/x' } },
    ],
  });
  assert.equal(r.forbiddenReason, 'restricted volume types');
  assert.equal(r.forbiddenDetail, 'volumes "h", "n", "h2" use restricted volume types "hostPath", "nfs"');
  const one = run('restrictedVolumes', { volumes: [{ name: 'g', gitRepo: { repository: 'r' } }] });
  assert.equal(one.forbiddenDetail, 'volume "g" uses restricted volume type "gitRepo"');
});

test('runAsNonRoot: explicit false, then missing', () => {
  assert.equal(
    run('runAsNonRoot', {
      securityContext: { runAsNonRoot: false },
      containers: [sc('a', { runAsNonRoot: false }), sc('b')],
    }).forbiddenDetail,
    'pod and container "a" must not set securityContext.runAsNonRoot=false',
  );
  assert.deepEqual(run('runAsNonRoot', { containers: [sc('a'), sc('b', { runAsNonRoot: true })] }), {
    allowed: false,
    forbiddenReason: 'runAsNonRoot != true',
    forbiddenDetail: 'pod or container "a" must set securityContext.runAsNonRoot=true',
  });
  assert.equal(
    run('runAsNonRoot', { securityContext: { runAsNonRoot: true }, containers: [sc('a')] }).allowed,
    true,
  );
});

test('runAsUser=0', () => {
  assert.deepEqual(
    run('runAsUser', {
      securityContext: { runAsUser: 0 },
      containers: [sc('a', { runAsUser: 0 }), sc('b', { runAsUser: 1000 })],
    }),
    {
      allowed: false,
      forbiddenReason: 'runAsUser=0',
      forbiddenDetail: 'pod and container "a" must not set runAsUser=0',
    },
  );
  assert.equal(
    run('runAsUser', { securityContext: { runAsUser: 1000 }, containers: [sc('a')] }).allowed,
    true,
  );
});

test('seccompProfile must be RuntimeDefault or Localhost, at pod or container level', () => {
  assert.deepEqual(run('seccompProfile_restricted', { containers: [sc('a'), sc('b')] }), {
    allowed: false,
    forbiddenReason: 'seccompProfile',
    forbiddenDetail:
      'pod or containers "a", "b" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"',
  });
  assert.equal(
    run('seccompProfile_restricted', {
      securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
      containers: [sc('a', { seccompProfile: { type: 'Unconfined' } }), sc('b')],
    }).forbiddenDetail,
    'container "a" must not set securityContext.seccompProfile.type to "Unconfined"',
  );
  assert.equal(
    run('seccompProfile_restricted', {
      securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: 'p.json' } },
      containers: [sc('a')],
    }).allowed,
    true,
  );
});
