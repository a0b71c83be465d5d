/**
 * The Restricted level of the Pod Security Standards (k8s.io/pod-security-admission policy/check_*.go),
 * evaluated on top of Baseline: volume types, allowPrivilegeEscalation=false, runAsNonRoot=true, no
 * runAsUser=0, a RuntimeDefault/Localhost seccomp profile, and capabilities that drop ALL and add at most
 * NET_BIND_SERVICE. Three restricted checks supersede a Baseline one (`overrides`), so that check is not
 * run a second time at this level: restricted volume types → hostPath volumes, capabilities →
 * non-default capabilities, seccompProfile → the Baseline seccomp check. From policy 1.25 on, Windows
 * pods are exempt from the privilege-escalation, capabilities and seccomp checks.
 */
import type { PodSpec } from 'kubernetes-types/core/v1';
import {
  ALLOWED,
  allContainers,
  type Check,
  type CheckPodFn,
  type CheckResult,
  containersPhrase,
  forbidden,
  isWindowsPod,
  joinQuote,
  type PodMeta,
  pluralize,
  sortedSet,
} from './check-helpers.ts';
import {
  CHECK_CAPABILITIES_BASELINE,
  CHECK_HOST_PATH_VOLUMES,
  CHECK_SECCOMP_BASELINE,
  validSeccompType,
} from './checks-baseline.ts';

/** The 1.25 revision of a check: the same check, with Windows pods allowed. */
const exceptWindows =
  (check: CheckPodFn): CheckPodFn =>
  (meta, spec) =>
    isWindowsPod(spec) ? ALLOWED : check(meta, spec);

function allowPrivilegeEscalation(_meta: PodMeta, spec: PodSpec): CheckResult {
  const bad = allContainers(spec)
    .filter((c) => c.securityContext?.allowPrivilegeEscalation !== false)
    .map((c) => c.name);
  if (!bad.length) return ALLOWED;
  return forbidden(
    'allowPrivilegeEscalation != false',
    `${containersPhrase(bad)} must set securityContext.allowPrivilegeEscalation=false`,
  );
}

function capabilitiesRestricted(_meta: PodMeta, spec: PodSpec): CheckResult {
  const missingDropAll: string[] = [];
  const adding: string[] = [];
  const caps: string[] = [];
  for (const c of allContainers(spec)) {
    const capabilities = c.securityContext?.capabilities;
    if (!capabilities) {
      missingDropAll.push(c.name);
      continue;
    }
    if (!(capabilities.drop ?? []).includes('ALL')) missingDropAll.push(c.name);
    const extra = (capabilities.add ?? []).filter((a) => a !== 'NET_BIND_SERVICE');
    if (extra.length) {
      adding.push(c.name);
      caps.push(...extra);
    }
  }
  const details: string[] = [];
  if (missingDropAll.length)
    details.push(`${containersPhrase(missingDropAll)} must set securityContext.capabilities.drop=["ALL"]`);
  if (adding.length)
    details.push(
      `${containersPhrase(adding)} must not include ${joinQuote(sortedSet(caps))} in securityContext.capabilities.add`,
    );
  return details.length ? forbidden('unrestricted capabilities', details.join('; ')) : ALLOWED;
}

/** Volume sources allowed at Restricted (1.33 added `image`). */
const ALLOWED_VOLUME_SOURCES = [
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'image',
  'persistentVolumeClaim',
  'projected',
  'secret',
];
/** The restricted sources, in the order upstream names them. */
const RESTRICTED_VOLUME_SOURCES = [
  'hostPath',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'gitRepo',
  'nfs',
  'iscsi',
  'glusterfs',
  'rbd',
  'flexVolume',
  'cinder',
  'cephfs',
  'flocker',
  'fc',
  'azureFile',
  'vsphereVolume',
  'quobyte',
  'azureDisk',
  'photonPersistentDisk',
  'portworxVolume',
  'scaleIO',
  'storageos',
];

function restrictedVolumes(_meta: PodMeta, spec: PodSpec): CheckResult {
  const names: string[] = [];
  const types = new Set<string>();
  for (const volume of (spec.volumes ?? []) as unknown as Record<string, unknown>[]) {
    const sources = Object.keys(volume).filter((k) => k !== 'name' && volume[k] != null);
    // A volume without any source is defaulted to emptyDir.
    if (!sources.length || sources.some((k) => ALLOWED_VOLUME_SOURCES.includes(k))) continue;
    names.push(String(volume['name'] ?? ''));
    types.add(RESTRICTED_VOLUME_SOURCES.find((k) => sources.includes(k)) ?? 'unknown');
  }
  if (!names.length) return ALLOWED;
  const typeList = sortedSet(types);
  return forbidden(
    'restricted volume types',
    `${pluralize('volume', 'volumes', names.length)} ${joinQuote(names)} ${pluralize('uses', 'use', names.length)} ${pluralize('restricted volume type', 'restricted volume types', typeList.length)} ${joinQuote(typeList)}`,
  );
}

function runAsNonRoot(_meta: PodMeta, spec: PodSpec): CheckResult {
  const podValue = spec.securityContext?.runAsNonRoot;
  const setters = podValue === false ? ['pod'] : [];
  const explicit: string[] = [];
  const implicit: string[] = [];
  for (const c of allContainers(spec)) {
    const v = c.securityContext?.runAsNonRoot;
    if (v === false) explicit.push(c.name);
    else if (v === undefined && podValue !== true) implicit.push(c.name);
  }
  if (explicit.length) setters.push(containersPhrase(explicit));
  if (setters.length)
    return forbidden(
      'runAsNonRoot != true',
      `${setters.join(' and ')} must not set securityContext.runAsNonRoot=false`,
    );
  if (implicit.length)
    return forbidden(
      'runAsNonRoot != true',
      `pod or ${containersPhrase(implicit)} must set securityContext.runAsNonRoot=true`,
    );
  return ALLOWED;
}

function runAsUser(_meta: PodMeta, spec: PodSpec): CheckResult {
  const setters = spec.securityContext?.runAsUser === 0 ? ['pod'] : [];
  const bad = allContainers(spec)
    .filter((c) => c.securityContext?.runAsUser === 0)
    .map((c) => c.name);
  if (bad.length) setters.push(containersPhrase(bad));
  return setters.length
    ? forbidden('runAsUser=0', `${setters.join(' and ')} must not set runAsUser=0`)
    : ALLOWED;
}

function seccompProfileRestricted(_meta: PodMeta, spec: PodSpec): CheckResult {
  const values = new Set<string>();
  const podProfile = spec.securityContext?.seccompProfile;
  const podBad = !!podProfile && !validSeccompType(podProfile.type);
  if (podBad) values.add(podProfile?.type ?? '');
  const podSet = !!podProfile && !podBad;
  const setters = podBad ? ['pod'] : [];
  const explicit: string[] = [];
  const implicit: string[] = [];
  for (const c of allContainers(spec)) {
    const p = c.securityContext?.seccompProfile;
    if (p) {
      if (!validSeccompType(p.type)) {
        explicit.push(c.name);
        values.add(p.type ?? '');
      }
    } else if (!podSet) implicit.push(c.name);
  }
  if (explicit.length) setters.push(containersPhrase(explicit));
  if (setters.length)
    return forbidden(
      'seccompProfile',
      `${setters.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(sortedSet(values))}`,
    );
  if (implicit.length)
    return forbidden(
      'seccompProfile',
      `pod or ${containersPhrase(implicit)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`,
    );
  return ALLOWED;
}

export const RESTRICTED_CHECKS: readonly Check[] = [
  {
    id: 'allowPrivilegeEscalation',
    level: 'restricted',
    versions: [
      { minimumMinor: 8, checkPod: allowPrivilegeEscalation },
      { minimumMinor: 25, checkPod: exceptWindows(allowPrivilegeEscalation) },
    ],
  },
  {
    id: 'capabilities_restricted',
    level: 'restricted',
    versions: [
      { minimumMinor: 22, checkPod: capabilitiesRestricted, overrides: [CHECK_CAPABILITIES_BASELINE] },
      {
        minimumMinor: 25,
        checkPod: exceptWindows(capabilitiesRestricted),
        overrides: [CHECK_CAPABILITIES_BASELINE],
      },
    ],
  },
  {
    id: 'restrictedVolumes',
    level: 'restricted',
    versions: [{ minimumMinor: 0, checkPod: restrictedVolumes, overrides: [CHECK_HOST_PATH_VOLUMES] }],
  },
  { id: 'runAsNonRoot', level: 'restricted', versions: [{ minimumMinor: 0, checkPod: runAsNonRoot }] },
  { id: 'runAsUser', level: 'restricted', versions: [{ minimumMinor: 23, checkPod: runAsUser }] },
  {
    id: 'seccompProfile_restricted',
    level: 'restricted',
    versions: [
      { minimumMinor: 19, checkPod: seccompProfileRestricted, overrides: [CHECK_SECCOMP_BASELINE] },
      {
        minimumMinor: 25,
        checkPod: exceptWindows(seccompProfileRestricted),
        overrides: [CHECK_SECCOMP_BASELINE],
      },
    ],
  },
];
