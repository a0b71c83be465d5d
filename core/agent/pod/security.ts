/**
 * Security settings for the runtime (kuberuntime's determineEffectiveSecurityContext and
 * generatePodSandboxLinuxConfig): the container's context overrides the pod's; namespaces from
 * hostNetwork/hostPID/hostIPC/shareProcessNamespace; seccomp from the container, else the pod, else
 * Unconfined (the kubelet's default without --seccomp-default); noNewPrivs from
 * allowPrivilegeEscalation; /proc masking by procMount; fsGroup and supplementalGroups as extra groups.
 */
import { join } from 'node:path';
import type {
  PodSecurityContext,
  SeccompProfile,
  SecurityContext,
  SELinuxOptions,
} from 'kubernetes-types/core/v1';
import type { KObject } from '../../api/object.ts';
import type {
  CriLinuxContainerSecurityContext,
  CriLinuxSandboxSecurityContext,
  CriNamespaceOption,
  CriSecurityProfile,
  CriSELinuxOption,
} from '../cri/types.ts';
import { allContainers, type Container, podNamespace, podSpec } from './types.ts';

/** /proc paths the runtime masks / makes read-only unless procMount is Unmasked (securitycontext). */
export const DEFAULT_MASKED_PATHS = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];
export const DEFAULT_READONLY_PATHS = [
  '/proc/bus',
  '/proc/fs',
  '/proc/irq',
  '/proc/sys',
  '/proc/sysrq-trigger',
];

/** Where Localhost seccomp profiles live (the kubelet's <root-dir>/seccomp). */
export const DEFAULT_SECCOMP_ROOT = '/var/lib/berth/seccomp';

function podSecurityContext(pod: KObject): PodSecurityContext {
  return podSpec(pod).securityContext ?? {};
}

/** securitycontext.DetermineEffectiveSecurityContext: pod-level fields, each overridden by the container's. */
export function effectiveSecurityContext(pod: KObject, container: Container): SecurityContext {
  const p = podSecurityContext(pod);
  const c = container.securityContext ?? {};
  const out: SecurityContext = {};
  const fromPod = {
    seLinuxOptions: p.seLinuxOptions,
    windowsOptions: p.windowsOptions,
    runAsUser: p.runAsUser,
    runAsGroup: p.runAsGroup,
    runAsNonRoot: p.runAsNonRoot,
    seccompProfile: p.seccompProfile,
    appArmorProfile: p.appArmorProfile,
  };
  for (const [k, v] of Object.entries(fromPod)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  for (const [k, v] of Object.entries(c)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** runtimeutil.NamespacesForPod */
export function namespaceOptions(pod: KObject): CriNamespaceOption {
  const spec = podSpec(pod);
  return {
    network: spec.hostNetwork ? 'NODE' : 'POD',
    pid: spec.hostPID ? 'NODE' : spec.shareProcessNamespace ? 'POD' : 'CONTAINER',
    ipc: spec.hostIPC ? 'NODE' : 'POD',
  };
}

function seLinux(o: SELinuxOptions | undefined): CriSELinuxOption | undefined {
  if (!o) return undefined;
  return { user: o.user ?? '', role: o.role ?? '', type: o.type ?? '', level: o.level ?? '' };
}

/** A seccompProfile field as the runtime wants it (fieldProfile). */
function seccompProfile(p: SeccompProfile, root: string): CriSecurityProfile {
  if (p.type === 'Localhost') {
    if (!p.localhostProfile)
      throw new Error('localhostProfile must be set if seccompProfile type is Localhost.');
    return { profileType: 'Localhost', localhostRef: join(root, p.localhostProfile) };
  }
  if (p.type === 'RuntimeDefault') return { profileType: 'RuntimeDefault' };
  return { profileType: 'Unconfined' };
}

/** The pod's extra groups: fsGroup first, then supplementalGroups. */
function podGroups(pod: KObject): number[] {
  const sc = podSecurityContext(pod);
  return [...(sc.fsGroup !== undefined ? [sc.fsGroup] : []), ...(sc.supplementalGroups ?? [])];
}

export interface ContainerSecurityOptions {
  /** The image's user (CRI ImageStatus uid / username) when the pod sets no runAsUser. */
  image?: { uid?: number; username?: string };
  /** The directory of Localhost seccomp profiles. */
  seccompProfileRoot?: string;
}

/** The runtime's security context of one container. Throws on a Localhost seccomp profile without a name. */
export function containerSecurity(
  pod: KObject,
  container: Container,
  opts: ContainerSecurityOptions = {},
): CriLinuxContainerSecurityContext {
  const sc = effectiveSecurityContext(pod, container);
  const out: CriLinuxContainerSecurityContext = {
    capabilities: {
      addCapabilities: [...(sc.capabilities?.add ?? [])],
      dropCapabilities: [...(sc.capabilities?.drop ?? [])],
    },
    privileged: sc.privileged ?? false,
    readonlyRootfs: sc.readOnlyRootFilesystem ?? false,
    namespaceOptions: namespaceOptions(pod),
    supplementalGroups: podGroups(pod),
    // AddNoNewPrivileges: only an explicit allowPrivilegeEscalation: false sets it.
    noNewPrivs: sc.allowPrivilegeEscalation === false,
    maskedPaths: sc.procMount === 'Unmasked' ? [] : [...DEFAULT_MASKED_PATHS],
    readonlyPaths: sc.procMount === 'Unmasked' ? [] : [...DEFAULT_READONLY_PATHS],
    seccomp: sc.seccompProfile
      ? seccompProfile(sc.seccompProfile, opts.seccompProfileRoot ?? DEFAULT_SECCOMP_ROOT)
      : { profileType: 'Unconfined' },
  };
  const selinux = seLinux(sc.seLinuxOptions);
  if (selinux) out.selinuxOptions = selinux;
  if (sc.runAsUser !== undefined) out.runAsUser = { value: sc.runAsUser };
  else {
    if (opts.image?.uid !== undefined) out.runAsUser = { value: opts.image.uid };
    if (opts.image?.username) out.runAsUsername = opts.image.username;
  }
  if (sc.runAsGroup !== undefined) out.runAsGroup = { value: sc.runAsGroup };
  return out;
}

/** sysctl.NormalizeName: "net/ipv4/ip_forward" → "net.ipv4.ip_forward" ('.' and '/' swapped). */
export function normalizeSysctlName(name: string): string {
  const i = name.search(/[./]/);
  if (i < 0 || name[i] === '.') return name;
  return name.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
}

/**
 * The sysctls the kubelet allows without --allowed-unsafe-sysctls (its safe set, all namespaced), by
 * the namespace that isolates them.
 */
export const SAFE_SYSCTLS: ReadonlyMap<string, 'ipc' | 'net'> = new Map([
  ['kernel.shm_rmid_forced', 'ipc'],
  ['net.ipv4.ip_local_port_range', 'net'],
  ['net.ipv4.tcp_syncookies', 'net'],
  ['net.ipv4.ping_group_range', 'net'],
  ['net.ipv4.ip_unprivileged_port_start', 'net'],
  ['net.ipv4.ip_local_reserved_ports', 'net'],
  ['net.ipv4.tcp_keepalive_time', 'net'],
  ['net.ipv4.tcp_fin_timeout', 'net'],
  ['net.ipv4.tcp_keepalive_intvl', 'net'],
  ['net.ipv4.tcp_keepalive_probes', 'net'],
  ['net.ipv4.tcp_rmem', 'net'],
  ['net.ipv4.tcp_wmem', 'net'],
]);

/**
 * The kubelet's sysctl admission: a pod asking for a sysctl outside the safe set, or for a net/ipc one
 * while sharing the node's network/IPC namespace, is rejected (reason SysctlForbidden).
 */
export function sysctlAdmission(pod: KObject): { reason: string; message: string } | undefined {
  const spec = podSpec(pod);
  for (const s of podSecurityContext(pod).sysctls ?? []) {
    const name = normalizeSysctlName(s.name);
    const ns = SAFE_SYSCTLS.get(name);
    let why: string | undefined;
    if (!ns) why = `${JSON.stringify(name)} not allowlisted`;
    else if ((ns === 'net' && spec.hostNetwork) || (ns === 'ipc' && spec.hostIPC))
      why = `${JSON.stringify(name)} not allowed with host ${ns} enabled`;
    if (why) return { reason: 'SysctlForbidden', message: `forbidden sysctl: ${why}` };
  }
  return undefined;
}

/** The pod's sysctls for the sandbox (LinuxPodSandboxConfig.sysctls). */
export function sandboxSysctls(pod: KObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of podSecurityContext(pod).sysctls ?? []) out[normalizeSysctlName(s.name)] = s.value;
  return out;
}

/** The sandbox's security context: namespaces, pod-level user/group, groups, privileged when any container is. */
export function sandboxSecurity(pod: KObject): CriLinuxSandboxSecurityContext {
  const sc = podSecurityContext(pod);
  const out: CriLinuxSandboxSecurityContext = {
    namespaceOptions: namespaceOptions(pod),
    privileged: allContainers(pod).some((c) => c.securityContext?.privileged === true),
    // The sandbox (pause) always runs with the runtime's default profile (kubernetes#84623).
    seccomp: { profileType: 'RuntimeDefault' },
    supplementalGroups: podGroups(pod),
  };
  if (sc.runAsUser !== undefined) out.runAsUser = { value: sc.runAsUser };
  if (sc.runAsGroup !== undefined) out.runAsGroup = { value: sc.runAsGroup };
  const selinux = seLinux(sc.seLinuxOptions);
  if (selinux) out.selinuxOptions = selinux;
  return out;
}

/** format.Pod: name_namespace(uid). */
function podDesc(pod: KObject): string {
  return `${pod.metadata.name ?? ''}_${podNamespace(pod)}(${pod.metadata.uid ?? ''})`;
}

/**
 * Kubelet's runAsNonRoot verification against the image's user; returns the error message or
 * undefined. An image with neither a uid nor a user name runs as root (the kubelet's getImageUser).
 */
export function verifyRunAsNonRoot(
  pod: KObject,
  container: Container,
  imageUid: number | undefined,
  imageUser: string | undefined,
): string | undefined {
  const sc = effectiveSecurityContext(pod, container);
  if (!sc.runAsNonRoot) return undefined;
  const desc = JSON.stringify(podDesc(pod));
  if (sc.runAsUser !== undefined) {
    return sc.runAsUser === 0
      ? `container's runAsUser breaks non-root policy (pod: ${desc}, container: ${container.name})`
      : undefined;
  }
  const uid = imageUid ?? (imageUser ? undefined : 0);
  if (uid === 0)
    return `container has runAsNonRoot and image will run as root (pod: ${desc}, container: ${container.name})`;
  if (uid === undefined && imageUser)
    return `container has runAsNonRoot and image has non-numeric user (${imageUser}), cannot verify user is non-root (pod: ${desc}, container: ${container.name})`;
  return undefined;
}
