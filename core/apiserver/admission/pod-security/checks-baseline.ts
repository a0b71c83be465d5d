/**
 * The Baseline level of the Pod Security Standards (k8s.io/pod-security-admission policy/check_*.go,
 * policy version "latest" = the 1.33 set), with upstream's reason and detail strings: host namespaces,
 * privileged, non-default capabilities, hostPath volumes, host ports, AppArmor, SELinux options,
 * /proc mount type, seccomp Unconfined, unsafe sysctls and Windows HostProcess. Listed in upstream's
 * evaluation order (check IDs in byte order).
 */
import type { PodSpec, SELinuxOptions } from 'kubernetes-types/core/v1';
import {
  ALLOWED,
  allContainers,
  type Check,
  type CheckResult,
  containersPhrase,
  forbidden,
  joinQuote,
  type PodMeta,
  pluralize,
  sortedSet,
} from './check-helpers.ts';

const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';
const SECCOMP_POD_ANNOTATION = 'seccomp.security.alpha.kubernetes.io/pod';
const SECCOMP_CONTAINER_ANNOTATION_PREFIX = 'container.seccomp.security.alpha.kubernetes.io/';

/** `pod and containers "a"` style setter lists. */
function setters(pod: boolean, containers: readonly string[]): string[] {
  const out = pod ? ['pod'] : [];
  if (containers.length) out.push(containersPhrase(containers));
  return out;
}

function appArmorProfile(meta: PodMeta, spec: PodSpec): CheckResult {
  const allowedType = (t: string | undefined): boolean => t === 'RuntimeDefault' || t === 'Localhost';
  const badValues = new Set<string>();
  const podType = spec.securityContext?.appArmorProfile?.type;
  const podBad = !!spec.securityContext?.appArmorProfile && !allowedType(podType);
  if (podBad) badValues.add(podType ?? '');
  const badContainers: string[] = [];
  for (const c of allContainers(spec)) {
    const profile = c.securityContext?.appArmorProfile;
    if (profile && !allowedType(profile.type)) {
      badContainers.push(c.name);
      badValues.add(profile.type ?? '');
    }
  }
  const who = setters(podBad, badContainers);
  const annotations = Object.entries(meta.annotations ?? {})
    .filter(
      ([k, v]) =>
        k.startsWith(APPARMOR_ANNOTATION_PREFIX) &&
        !(v === '' || v === 'runtime/default' || v.startsWith('localhost/')),
    )
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  const values = sortedSet(badValues);
  if (annotations.length) {
    values.push(...sortedSet(annotations));
    who.push(pluralize('annotation', 'annotations', annotations.length));
  }
  if (!who.length) return ALLOWED;
  return forbidden(
    pluralize('forbidden AppArmor profile', 'forbidden AppArmor profiles', values.length),
    `${who.join(' and ')} must not set AppArmor profile type to ${joinQuote(values)}`,
  );
}

const DEFAULT_CAPABILITIES = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);

function capabilitiesBaseline(_meta: PodMeta, spec: PodSpec): CheckResult {
  const bad: string[] = [];
  const caps: string[] = [];
  for (const c of allContainers(spec)) {
    const extra = (c.securityContext?.capabilities?.add ?? []).filter((a) => !DEFAULT_CAPABILITIES.has(a));
    if (!extra.length) continue;
    bad.push(c.name);
    caps.push(...extra);
  }
  if (!bad.length) return ALLOWED;
  return forbidden(
    'non-default capabilities',
    `${containersPhrase(bad)} must not include ${joinQuote(sortedSet(caps))} in securityContext.capabilities.add`,
  );
}

function hostNamespaces(_meta: PodMeta, spec: PodSpec): CheckResult {
  const used: string[] = [];
  if (spec.hostNetwork) used.push('hostNetwork');
  if (spec.hostPID) used.push('hostPID');
  if (spec.hostIPC) used.push('hostIPC');
  return used.length ? forbidden('host namespaces', sortedSet(used).join(', ')) : ALLOWED;
}

function hostPathVolumes(_meta: PodMeta, spec: PodSpec): CheckResult {
  const names = (spec.volumes ?? []).filter((v) => v.hostPath).map((v) => v.name);
  if (!names.length) return ALLOWED;
  return forbidden('hostPath volumes', `${pluralize('volume', 'volumes', names.length)} ${joinQuote(names)}`);
}

function hostPorts(_meta: PodMeta, spec: PodSpec): CheckResult {
  const bad: string[] = [];
  const ports: string[] = [];
  for (const c of allContainers(spec)) {
    const used = (c.ports ?? []).filter((p) => p.hostPort).map((p) => String(p.hostPort));
    if (!used.length) continue;
    bad.push(c.name);
    ports.push(...used);
  }
  if (!bad.length) return ALLOWED;
  const list = sortedSet(ports);
  return forbidden(
    'hostPort',
    `${containersPhrase(bad)} ${pluralize('uses', 'use', bad.length)} ${pluralize('hostPort', 'hostPorts', list.length)} ${list.join(', ')}`,
  );
}

function privileged(_meta: PodMeta, spec: PodSpec): CheckResult {
  const bad = allContainers(spec)
    .filter((c) => c.securityContext?.privileged === true)
    .map((c) => c.name);
  if (!bad.length) return ALLOWED;
  return forbidden('privileged', `${containersPhrase(bad)} must not set securityContext.privileged=true`);
}

function procMount(_meta: PodMeta, spec: PodSpec): CheckResult {
  const bad: string[] = [];
  const types: string[] = [];
  for (const c of allContainers(spec)) {
    const t = c.securityContext?.procMount;
    if (t === undefined || t === 'Default') continue;
    bad.push(c.name);
    types.push(t);
  }
  if (!bad.length) return ALLOWED;
  return forbidden(
    'procMount',
    `${containersPhrase(bad)} must not set securityContext.procMount to ${joinQuote(sortedSet(types))}`,
  );
}

const SELINUX_TYPES_1_0 = ['', 'container_t', 'container_init_t', 'container_kvm_t'];
const SELINUX_TYPES_1_31 = [...SELINUX_TYPES_1_0, 'container_engine_t'];

function seLinuxOptionsCheck(allowedTypes: readonly string[]): (meta: PodMeta, spec: PodSpec) => CheckResult {
  const allowed = new Set(allowedTypes);
  return (_meta, spec) => {
    const badTypes = new Set<string>();
    let setUser = false;
    let setRole = false;
    const valid = (o: SELinuxOptions): boolean => {
      const typeOk = allowed.has(o.type ?? '');
      if (!typeOk) badTypes.add(o.type ?? '');
      if (o.user) setUser = true;
      if (o.role) setRole = true;
      return typeOk && !o.user && !o.role;
    };
    const podOpts = spec.securityContext?.seLinuxOptions;
    const podBad = !!podOpts && !valid(podOpts);
    const bad: string[] = [];
    for (const c of allContainers(spec)) {
      const o = c.securityContext?.seLinuxOptions;
      if (o && !valid(o)) bad.push(c.name);
    }
    const who = setters(podBad, bad);
    if (!who.length) return ALLOWED;
    const data: string[] = [];
    if (badTypes.size)
      data.push(`${pluralize('type', 'types', badTypes.size)} ${joinQuote(sortedSet(badTypes))}`);
    if (setUser) data.push('user may not be set');
    if (setRole) data.push('role may not be set');
    return forbidden(
      'seLinuxOptions',
      `${who.join(' and ')} set forbidden securityContext.seLinuxOptions: ${data.join('; ')}`,
    );
  };
}

/** Policy versions before 1.19: only the alpha seccomp annotations. */
function seccompProfileBaselineAnnotations(meta: PodMeta, spec: PodSpec): CheckResult {
  const ok = (v: string): boolean =>
    v === 'runtime/default' || v === 'docker/default' || v.startsWith('localhost/');
  const annotations = meta.annotations ?? {};
  const bad: string[] = [];
  const podValue = annotations[SECCOMP_POD_ANNOTATION];
  if (podValue !== undefined && !ok(podValue))
    bad.push(`${SECCOMP_POD_ANNOTATION}=${JSON.stringify(podValue)}`);
  for (const c of allContainers(spec)) {
    const key = SECCOMP_CONTAINER_ANNOTATION_PREFIX + c.name;
    const v = annotations[key];
    if (v !== undefined && !ok(v)) bad.push(`${key}=${JSON.stringify(v)}`);
  }
  if (!bad.length) return ALLOWED;
  const list = sortedSet(bad);
  return forbidden(
    'seccompProfile',
    `forbidden ${pluralize('annotation', 'annotations', list.length)} ${list.join(', ')}`,
  );
}

export const validSeccompType = (t: string | undefined): boolean =>
  t === 'RuntimeDefault' || t === 'Localhost';

/** Policy 1.19+: securityContext.seccompProfile.type may not be Unconfined (or anything but the two valid types). */
function seccompProfileBaseline(_meta: PodMeta, spec: PodSpec): CheckResult {
  const values = new Set<string>();
  const podProfile = spec.securityContext?.seccompProfile;
  const podBad = !!podProfile && !validSeccompType(podProfile.type);
  if (podBad) values.add(podProfile?.type ?? '');
  const bad: string[] = [];
  for (const c of allContainers(spec)) {
    const p = c.securityContext?.seccompProfile;
    if (p && !validSeccompType(p.type)) {
      bad.push(c.name);
      values.add(p.type ?? '');
    }
  }
  const who = setters(podBad, bad);
  if (!who.length) return ALLOWED;
  return forbidden(
    'seccompProfile',
    `${who.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(sortedSet(values))}`,
  );
}

const SYSCTLS_1_0 = [
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start',
];
const SYSCTLS_1_27 = [...SYSCTLS_1_0, 'net.ipv4.ip_local_reserved_ports'];
const SYSCTLS_1_29 = [
  ...SYSCTLS_1_27,
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
];
const SYSCTLS_1_32 = [...SYSCTLS_1_29, 'net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem'];

function sysctlsCheck(allowedNames: readonly string[]): (meta: PodMeta, spec: PodSpec) => CheckResult {
  const allowed = new Set(allowedNames);
  return (_meta, spec) => {
    const bad = (spec.securityContext?.sysctls ?? []).map((s) => s.name).filter((n) => !allowed.has(n));
    return bad.length ? forbidden('forbidden sysctls', bad.join(', ')) : ALLOWED;
  };
}

function windowsHostProcess(_meta: PodMeta, spec: PodSpec): CheckResult {
  const bad = allContainers(spec)
    .filter((c) => c.securityContext?.windowsOptions?.hostProcess === true)
    .map((c) => c.name);
  const podBad = spec.securityContext?.windowsOptions?.hostProcess === true;
  const who = setters(podBad, bad);
  if (!who.length) return ALLOWED;
  return forbidden(
    'hostProcess',
    `${who.join(' and ')} must not set securityContext.windowsOptions.hostProcess=true`,
  );
}

const v1_0 = (checkPod: Check['versions'][number]['checkPod']): Check['versions'] => [
  { minimumMinor: 0, checkPod },
];

export const CHECK_HOST_PATH_VOLUMES = 'hostPathVolumes';
export const CHECK_CAPABILITIES_BASELINE = 'capabilities_baseline';
export const CHECK_SECCOMP_BASELINE = 'seccompProfile_baseline';

export const BASELINE_CHECKS: readonly Check[] = [
  { id: 'appArmorProfile', level: 'baseline', versions: v1_0(appArmorProfile) },
  { id: CHECK_CAPABILITIES_BASELINE, level: 'baseline', versions: v1_0(capabilitiesBaseline) },
  { id: 'hostNamespaces', level: 'baseline', versions: v1_0(hostNamespaces) },
  { id: CHECK_HOST_PATH_VOLUMES, level: 'baseline', versions: v1_0(hostPathVolumes) },
  { id: 'hostPorts', level: 'baseline', versions: v1_0(hostPorts) },
  { id: 'privileged', level: 'baseline', versions: v1_0(privileged) },
  { id: 'procMount', level: 'baseline', versions: v1_0(procMount) },
  {
    id: 'seLinuxOptions',
    level: 'baseline',
    versions: [
      { minimumMinor: 0, checkPod: seLinuxOptionsCheck(SELINUX_TYPES_1_0) },
      { minimumMinor: 31, checkPod: seLinuxOptionsCheck(SELINUX_TYPES_1_31) },
    ],
  },
  {
    id: CHECK_SECCOMP_BASELINE,
    level: 'baseline',
    versions: [
      { minimumMinor: 0, checkPod: seccompProfileBaselineAnnotations },
      { minimumMinor: 19, checkPod: seccompProfileBaseline },
    ],
  },
  {
    id: 'sysctls',
    level: 'baseline',
    versions: [
      { minimumMinor: 0, checkPod: sysctlsCheck(SYSCTLS_1_0) },
      { minimumMinor: 27, checkPod: sysctlsCheck(SYSCTLS_1_27) },
      { minimumMinor: 29, checkPod: sysctlsCheck(SYSCTLS_1_29) },
      { minimumMinor: 32, checkPod: sysctlsCheck(SYSCTLS_1_32) },
    ],
  },
  { id: 'windowsHostProcess', level: 'baseline', versions: v1_0(windowsHostProcess) },
];
