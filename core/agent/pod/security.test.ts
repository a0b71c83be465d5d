import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/object.ts';
import type { Container } from './types.ts';
import {
  containerSecurity,
  DEFAULT_MASKED_PATHS,
  DEFAULT_READONLY_PATHS,
  normalizeSysctlName,
  sandboxSecurity,
  sandboxSysctls,
  sysctlAdmission,
  verifyRunAsNonRoot,
} from './security.ts';

function pod(spec: Record<string, unknown>, containers: Container[] = [{ name: 'c' }]): KObject {
  return { metadata: { name: 'web', namespace: 'ns', uid: 'u-1' }, spec: { containers, ...spec } };
}

test('container security: pod defaults overridden by the container, capabilities as given, groups', () => {
  const c: Container = {
    name: 'c',
    securityContext: {
      runAsUser: 2000,
      capabilities: { add: ['NET_ADMIN', 'SYS_TIME'], drop: ['ALL'] },
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
    },
  };
  const p = pod(
    {
      securityContext: { runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000, supplementalGroups: [4000, 5000] },
    },
    [c],
  );
  const sc = containerSecurity(p, c);
  assert.deepEqual(sc.runAsUser, { value: 2000 });
  assert.deepEqual(sc.runAsGroup, { value: 3000 });
  assert.deepEqual(sc.capabilities, {
    addCapabilities: ['NET_ADMIN', 'SYS_TIME'],
    dropCapabilities: ['ALL'],
  });
  assert.equal(sc.readonlyRootfs, true);
  assert.equal(sc.noNewPrivs, true);
  assert.equal(sc.privileged, false);
  assert.deepEqual(sc.supplementalGroups, [2000, 4000, 5000]);
  assert.deepEqual(sc.maskedPaths, DEFAULT_MASKED_PATHS);
  assert.deepEqual(sc.readonlyPaths, DEFAULT_READONLY_PATHS);
  assert.deepEqual(sc.seccomp, { profileType: 'Unconfined' });
  assert.deepEqual(sc.namespaceOptions, { network: 'POD', pid: 'CONTAINER', ipc: 'POD' });
});

test('noNewPrivs only for an explicit allowPrivilegeEscalation: false; privileged; procMount Unmasked', () => {
  const open: Container = { name: 'a', securityContext: { allowPrivilegeEscalation: true } };
  assert.equal(containerSecurity(pod({}, [open]), open).noNewPrivs, false);
  assert.equal(containerSecurity(pod({}), { name: 'c' }).noNewPrivs, false);
  const priv: Container = { name: 'p', securityContext: { privileged: true, procMount: 'Unmasked' } };
  const sc = containerSecurity(pod({}, [priv]), priv);
  assert.equal(sc.privileged, true);
  assert.deepEqual(sc.maskedPaths, []);
  assert.deepEqual(sc.readonlyPaths, []);
});

test('image user is used when no runAsUser is set', () => {
  const c: Container = { name: 'c' };
  assert.deepEqual(containerSecurity(pod({}), c, { image: { uid: 65534 } }).runAsUser, { value: 65534 });
  const named = containerSecurity(pod({}), c, { image: { username: 'nginx' } });
  assert.equal(named.runAsUser, undefined);
  assert.equal(named.runAsUsername, 'nginx');
});

test('seccomp: container over pod, RuntimeDefault, Localhost under the profile root, error without a name', () => {
  const c: Container = {
    name: 'c',
    securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: 'my.json' } },
  };
  const p = pod({ securityContext: { seccompProfile: { type: 'RuntimeDefault' } } }, [c, { name: 'd' }]);
  assert.deepEqual(containerSecurity(p, c, { seccompProfileRoot: '/sec' }).seccomp, {
    profileType: 'Localhost',
    localhostRef: '/sec/my.json',
  });
  assert.deepEqual(containerSecurity(p, { name: 'd' }).seccomp, { profileType: 'RuntimeDefault' });
  const bad: Container = { name: 'b', securityContext: { seccompProfile: { type: 'Localhost' } } };
  assert.throws(
    () => containerSecurity(pod({}, [bad]), bad),
    /localhostProfile must be set if seccompProfile type is Localhost/,
  );
  const unconf: Container = { name: 'u', securityContext: { seccompProfile: { type: 'Unconfined' } } };
  assert.deepEqual(containerSecurity(p, unconf).seccomp, { profileType: 'Unconfined' });
});

test('namespaces: hostNetwork/hostPID/hostIPC → NODE, shareProcessNamespace → POD', () => {
  assert.deepEqual(
    sandboxSecurity(pod({ hostNetwork: true, hostPID: true, hostIPC: true })).namespaceOptions,
    {
      network: 'NODE',
      pid: 'NODE',
      ipc: 'NODE',
    },
  );
  assert.deepEqual(containerSecurity(pod({ shareProcessNamespace: true }), { name: 'c' }).namespaceOptions, {
    network: 'POD',
    pid: 'POD',
    ipc: 'POD',
  });
});

test('sandbox: pod user/group, groups, privileged when any container is, RuntimeDefault seccomp, sysctls', () => {
  const p = pod(
    {
      securityContext: {
        runAsUser: 1000,
        runAsGroup: 1000,
        fsGroup: 7,
        sysctls: [
          { name: 'net.ipv4.ip_unprivileged_port_start', value: '0' },
          { name: 'net/ipv4/conf/eth0.100/rp_filter', value: '1' },
        ],
      },
      initContainers: [{ name: 'i', securityContext: { privileged: true } }],
    },
    [{ name: 'c' }],
  );
  assert.deepEqual(sandboxSecurity(p), {
    namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' },
    privileged: true,
    seccomp: { profileType: 'RuntimeDefault' },
    supplementalGroups: [7],
    runAsUser: { value: 1000 },
    runAsGroup: { value: 1000 },
  });
  assert.deepEqual(sandboxSysctls(p), {
    'net.ipv4.ip_unprivileged_port_start': '0',
    'net.ipv4.conf.eth0/100.rp_filter': '1',
  });
  assert.equal(normalizeSysctlName('kernel.shm_rmid_forced'), 'kernel.shm_rmid_forced');
  assert.equal(sandboxSecurity(pod({})).privileged, false);
});

test('verifyRunAsNonRoot: the kubelet messages', () => {
  const c: Container = { name: 'app' };
  const p = pod({ securityContext: { runAsNonRoot: true } }, [c]);
  assert.equal(
    verifyRunAsNonRoot(p, c, 0, undefined),
    'container has runAsNonRoot and image will run as root (pod: "web_ns(u-1)", container: app)',
  );
  assert.equal(
    verifyRunAsNonRoot(p, c, undefined, undefined),
    'container has runAsNonRoot and image will run as root (pod: "web_ns(u-1)", container: app)',
  );
  assert.equal(
    verifyRunAsNonRoot(p, c, undefined, 'nginx'),
    'container has runAsNonRoot and image has non-numeric user (nginx), cannot verify user is non-root (pod: "web_ns(u-1)", container: app)',
  );
  assert.equal(verifyRunAsNonRoot(p, c, 1000, undefined), undefined);
  const asRoot: Container = { name: 'app', securityContext: { runAsUser: 0 } };
  assert.equal(
    verifyRunAsNonRoot(pod({ securityContext: { runAsNonRoot: true } }, [asRoot]), asRoot, 1000, undefined),
    `container's runAsUser breaks non-root policy (pod: "web_ns(u-1)", container: app)`,
  );
  const asUser: Container = { name: 'app', securityContext: { runAsUser: 5 } };
  assert.equal(verifyRunAsNonRoot(p, asUser, 0, undefined), undefined);
  // The container can switch the check off.
  const off: Container = { name: 'app', securityContext: { runAsNonRoot: false } };
  assert.equal(verifyRunAsNonRoot(p, off, 0, undefined), undefined);
  assert.equal(verifyRunAsNonRoot(pod({}), c, 0, undefined), undefined);
});

test('sysctl admission: the safe set only, and no net/ipc sysctls while sharing the node namespace', () => {
  const sysctls = (names: string[], extra: Record<string, unknown> = {}): KObject =>
    pod({ securityContext: { sysctls: names.map((name) => ({ name, value: '1' })) }, ...extra });
  assert.equal(sysctlAdmission(pod({})), undefined);
  assert.equal(
    sysctlAdmission(sysctls(['kernel.shm_rmid_forced', 'net/ipv4/ip_unprivileged_port_start'])),
    undefined,
  );
  assert.deepEqual(sysctlAdmission(sysctls(['net.ipv4.tcp_syncookies', 'kernel.msgmax'])), {
    reason: 'SysctlForbidden',
    message: 'forbidden sysctl: "kernel.msgmax" not allowlisted',
  });
  assert.deepEqual(sysctlAdmission(sysctls(['net.ipv4.ping_group_range'], { hostNetwork: true })), {
    reason: 'SysctlForbidden',
    message: 'forbidden sysctl: "net.ipv4.ping_group_range" not allowed with host net enabled',
  });
  assert.deepEqual(sysctlAdmission(sysctls(['kernel.shm_rmid_forced'], { hostIPC: true })), {
    reason: 'SysctlForbidden',
    message: 'forbidden sysctl: "kernel.shm_rmid_forced" not allowed with host ipc enabled',
  });
  assert.equal(sysctlAdmission(sysctls(['kernel.shm_rmid_forced'], { hostNetwork: true })), undefined);
});
