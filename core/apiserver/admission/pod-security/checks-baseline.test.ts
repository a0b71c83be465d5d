import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PodSpec } from 'kubernetes-types/core/v1';
import type { CheckResult, PodMeta } from './check-helpers.ts';
import { BASELINE_CHECKS } from './checks-baseline.ts';

/** Runs the baseline check `id` at policy version 1.<minor> (latest by default). */
function run(id: string, spec: Partial<PodSpec>, meta: PodMeta = {}, minor = Infinity): CheckResult {
  const check = BASELINE_CHECKS.find((c) => c.id === id);
  assert.ok(check, id);
  const rev = [...check.versions].reverse().find((v) => v.minimumMinor <= minor);
  assert.ok(rev, `${id} at 1.${minor}`);
  return rev.checkPod(meta, { containers: [], ...spec } as PodSpec);
}

const c = (name: string, extra: Record<string, unknown> = {}) => ({ name, image: 'nginx', ...extra });
const sc = (name: string, securityContext: Record<string, unknown>) => c(name, { securityContext });

test('a plain pod passes every baseline check', () => {
  for (const check of BASELINE_CHECKS) {
    const r = run(check.id, { containers: [c('app')], volumes: [{ name: 'v', emptyDir: {} }] });
    assert.equal(r.allowed, true, check.id);
  }
});

test('host namespaces', () => {
  assert.deepEqual(run('hostNamespaces', { hostPID: true, hostNetwork: true, hostIPC: true }), {
    allowed: false,
    forbiddenReason: 'host namespaces',
    forbiddenDetail: 'hostIPC, hostNetwork, hostPID',
  });
  assert.equal(run('hostNamespaces', { hostNetwork: false }).allowed, true);
});

test('privileged, counting init and ephemeral containers', () => {
  const r = run('privileged', {
    initContainers: [sc('init', { privileged: true })],
    containers: [sc('a', { privileged: false }), sc('b', { privileged: true })],
    ephemeralContainers: [sc('debug', { privileged: true })],
  });
  assert.equal(r.forbiddenReason, 'privileged');
  assert.equal(
    r.forbiddenDetail,
    'containers "init", "b", "debug" must not set securityContext.privileged=true',
  );
  assert.equal(
    run('privileged', { containers: [sc('c', { privileged: true })] }).forbiddenDetail,
    'container "c" must not set securityContext.privileged=true',
  );
});

test('non-default capabilities', () => {
  const r = run('capabilities_baseline', {
    containers: [
      sc('a', { capabilities: { add: ['NET_ADMIN', 'CHOWN', 'SYS_ADMIN'] } }),
      sc('b', { capabilities: { add: ['KILL'] } }),
      sc('c', { capabilities: { add: ['NET_ADMIN'] } }),
    ],
  });
  assert.equal(r.forbiddenReason, 'non-default capabilities');
  assert.equal(
    r.forbiddenDetail,
    'containers "a", "c" must not include "NET_ADMIN", "SYS_ADMIN" in securityContext.capabilities.add',
  );
});

test('hostPath volumes and host ports', () => {
  const v = run('hostPathVolumes', {
    volumes: [
      { name: 'h1', hostPath: { path: '/' } },
      { name: 'e', emptyDir: {} },
      { name: 'h2', hostPath: { path: '/x' } },
    ],
  });
  assert.deepEqual([v.forbiddenReason, v.forbiddenDetail], ['hostPath volumes', 'volumes "h1", "h2"']);
  assert.equal(
    run('hostPathVolumes', { volumes: [{ name: 'h', hostPath: { path: '/' } }] }).forbiddenDetail,
    'volume "h"',
  );
  const p = run('hostPorts', {
    containers: [
      c('a', {
        ports: [
          { containerPort: 80, hostPort: 8080 },
          { containerPort: 443, hostPort: 443 },
        ],
      }),
    ],
  });
  assert.deepEqual(
    [p.forbiddenReason, p.forbiddenDetail],
    ['hostPort', 'container "a" uses hostPorts 443, 8080'],
  );
  const two = run('hostPorts', {
    containers: [
      c('a', { ports: [{ containerPort: 80, hostPort: 80 }] }),
      c('b', { ports: [{ containerPort: 80, hostPort: 80 }] }),
    ],
  });
  assert.equal(two.forbiddenDetail, 'containers "a", "b" use hostPort 80');
  assert.equal(run('hostPorts', { containers: [c('a', { ports: [{ containerPort: 80 }] })] }).allowed, true);
});

test('AppArmor: fields and the deprecated annotations', () => {
  const r = run(
    'appArmorProfile',
    {
      securityContext: { appArmorProfile: { type: 'Unconfined' } },
      containers: [sc('a', { appArmorProfile: { type: 'Localhost', localhostProfile: 'p' } })],
    },
    { annotations: { 'container.apparmor.security.beta.kubernetes.io/a': 'unconfined' } },
  );
  assert.equal(r.forbiddenReason, 'forbidden AppArmor profiles');
  assert.equal(
    r.forbiddenDetail,
    'pod and annotation must not set AppArmor profile type to "Unconfined", "container.apparmor.security.beta.kubernetes.io/a="unconfined""',
  );
  const one = run('appArmorProfile', { containers: [sc('a', { appArmorProfile: { type: 'Unconfined' } })] });
  assert.deepEqual(
    [one.forbiddenReason, one.forbiddenDetail],
    ['forbidden AppArmor profile', 'container "a" must not set AppArmor profile type to "Unconfined"'],
  );
  const ok = run(
    'appArmorProfile',
    { containers: [c('a')] },
    { annotations: { 'container.apparmor.security.beta.kubernetes.io/a': 'localhost/x' } },
  );
  assert.equal(ok.allowed, true);
});

test('SELinux options: type, user and role', () => {
  const r = run('seLinuxOptions', {
    securityContext: { seLinuxOptions: { type: 'spc_t' } },
    containers: [sc('a', { seLinuxOptions: { user: 'u', role: 'r' } })],
  });
  assert.equal(r.forbiddenReason, 'seLinuxOptions');
  assert.equal(
    r.forbiddenDetail,
    'pod and container "a" set forbidden securityContext.seLinuxOptions: type "spc_t"; user may not be set; role may not be set',
  );
  assert.equal(
    run('seLinuxOptions', { securityContext: { seLinuxOptions: { type: 'container_init_t', level: 's0' } } })
      .allowed,
    true,
  );
  // container_engine_t is allowed from policy 1.31 on.
  const engine = { securityContext: { seLinuxOptions: { type: 'container_engine_t' } } };
  assert.equal(run('seLinuxOptions', engine).allowed, true);
  assert.equal(run('seLinuxOptions', engine, {}, 30).allowed, false);
});

test('procMount, seccomp Unconfined, sysctls and hostProcess', () => {
  assert.deepEqual(run('procMount', { containers: [sc('a', { procMount: 'Unmasked' })] }), {
    allowed: false,
    forbiddenReason: 'procMount',
    forbiddenDetail: 'container "a" must not set securityContext.procMount to "Unmasked"',
  });
  assert.equal(run('procMount', { containers: [sc('a', { procMount: 'Default' })] }).allowed, true);

  const s = run('seccompProfile_baseline', {
    securityContext: { seccompProfile: { type: 'Unconfined' } },
    containers: [
      sc('a', { seccompProfile: { type: 'Unconfined' } }),
      sc('b', { seccompProfile: { type: 'RuntimeDefault' } }),
    ],
  });
  assert.deepEqual(
    [s.forbiddenReason, s.forbiddenDetail],
    [
      'seccompProfile',
      'pod and container "a" must not set securityContext.seccompProfile.type to "Unconfined"',
    ],
  );
  // Before 1.19 only the alpha annotations count.
  const old = run(
    'seccompProfile_baseline',
    { containers: [c('a')] },
    { annotations: { 'seccomp.security.alpha.kubernetes.io/pod': 'unconfined' } },
    18,
  );
  assert.equal(
    old.forbiddenDetail,
    'forbidden annotation seccomp.security.alpha.kubernetes.io/pod="unconfined"',
  );

  const sys = {
    securityContext: {
      sysctls: [
        { name: 'kernel.msgmax', value: '1' },
        { name: 'net.ipv4.tcp_keepalive_time', value: '1' },
        { name: 'net.ipv4.tcp_syncookies', value: '1' },
      ],
    },
  };
  assert.deepEqual(run('sysctls', sys), {
    allowed: false,
    forbiddenReason: 'forbidden sysctls',
    forbiddenDetail: 'kernel.msgmax',
  });
  // tcp_keepalive_time is safe from policy 1.29 on.
  assert.equal(run('sysctls', sys, {}, 28).forbiddenDetail, 'kernel.msgmax, net.ipv4.tcp_keepalive_time');

  const hp = run('windowsHostProcess', {
    securityContext: { windowsOptions: { hostProcess: true } },
    containers: [
      sc('a', { windowsOptions: { hostProcess: true } }),
      sc('b', { windowsOptions: { hostProcess: true } }),
    ],
  });
  assert.deepEqual(
    [hp.forbiddenReason, hp.forbiddenDetail],
    [
      'hostProcess',
      'pod and containers "a", "b" must not set securityContext.windowsOptions.hostProcess=true',
    ],
  );
});
