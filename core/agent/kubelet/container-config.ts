/**
 * One container's CRI configuration (the kubelet's generateContainerConfig): image, command and args
 * with $(VAR) expansion, working dir, env, mounts (volumes, the managed /etc/hosts, the termination
 * message file), log path <name>/<restartCount>.log, tty/stdin, labels and annotations that let the
 * kubelet find and describe the container again, and the Linux resources and security context.
 */
import type { Container } from 'kubernetes-types/core/v1';
import type { KObject } from '../../api/object.ts';
import type {
  CriContainerConfig,
  CriImage,
  CriLinuxContainerSecurityContext,
  CriMount,
} from '../cri/types.ts';
import { expandCommand } from '../pod/env.ts';
import { containerResources } from '../pod/resources.ts';
import { containerSecurity } from '../pod/security.ts';
import { podNamespace, podUid } from '../pod/types.ts';
import { containerMounts, type PreparedVolume } from '../pod/volumes.ts';
import {
  CONTAINER_NAME_LABEL,
  POD_NAME_LABEL,
  POD_NAMESPACE_LABEL,
  POD_UID_LABEL,
} from './sandbox-config.ts';

export const RESTART_COUNT_ANNOTATION = 'io.kubernetes.container.restartCount';
export const TERMINATION_PATH_ANNOTATION = 'io.kubernetes.container.terminationMessagePath';
export const TERMINATION_POLICY_ANNOTATION = 'io.kubernetes.container.terminationMessagePolicy';
/** The spec image the container was made from (a changed image restarts the container). */
export const SPEC_IMAGE_ANNOTATION = 'berth.dev/spec-image';
/** Where the termination message file of this container instance lives on the node. */
export const TERMINATION_FILE_ANNOTATION = 'berth.dev/termination-file';

export interface ContainerInputs {
  pod: KObject;
  container: Container;
  attempt: number;
  env: { key: string; value: string }[];
  volumes: Map<string, PreparedVolume>;
  /** The pod's managed hosts file on the node. */
  hostsFile: string;
  /** This instance's termination message file on the node. */
  terminationFile: string;
  image: CriImage | undefined;
  memoryCapacity?: number;
  /** An ephemeral container's target: it joins this container's PID namespace (unless the pod shares one). */
  targetId?: string;
}

/** Mounts: volumes first, then /etc/hosts (unless a volume mounts it) and the termination-log file. */
export function mountsFor(i: ContainerInputs): CriMount[] {
  const mounts = containerMounts(i.container, i.volumes, i.env);
  const taken = new Set(mounts.map((m) => m.containerPath));
  if (!taken.has('/etc/hosts')) mounts.push({ containerPath: '/etc/hosts', hostPath: i.hostsFile });
  const termPath = i.container.terminationMessagePath || '/dev/termination-log';
  if (!taken.has(termPath)) mounts.push({ containerPath: termPath, hostPath: i.terminationFile });
  return mounts;
}

export function containerConfig(i: ContainerInputs): CriContainerConfig {
  const { pod, container: c } = i;
  const { command, args } = expandCommand(c, i.env);
  const imageUser =
    i.image?.uid || i.image?.username
      ? {
          image: {
            ...(i.image.uid ? { uid: i.image.uid.value } : {}),
            ...(i.image.username ? { username: i.image.username } : {}),
          },
        }
      : {};
  return {
    metadata: { name: c.name, attempt: i.attempt },
    image: { image: i.image?.id || (c.image ?? ''), userSpecifiedImage: c.image ?? '' },
    command,
    args,
    workingDir: c.workingDir ?? '',
    envs: i.env,
    mounts: mountsFor(i),
    labels: {
      [POD_NAME_LABEL]: pod.metadata.name ?? '',
      [POD_NAMESPACE_LABEL]: podNamespace(pod),
      [POD_UID_LABEL]: podUid(pod),
      [CONTAINER_NAME_LABEL]: c.name,
    },
    annotations: {
      [RESTART_COUNT_ANNOTATION]: String(i.attempt),
      [TERMINATION_PATH_ANNOTATION]: c.terminationMessagePath || '/dev/termination-log',
      [TERMINATION_POLICY_ANNOTATION]: c.terminationMessagePolicy || 'File',
      [SPEC_IMAGE_ANNOTATION]: c.image ?? '',
      [TERMINATION_FILE_ANNOTATION]: i.terminationFile,
    },
    logPath: `${c.name}/${i.attempt}.log`,
    stdin: c.stdin ?? false,
    stdinOnce: c.stdinOnce ?? false,
    tty: c.tty ?? false,
    linux: {
      resources: containerResources(
        pod,
        c,
        i.memoryCapacity !== undefined ? { memoryCapacity: i.memoryCapacity } : {},
      ),
      securityContext: withPidTarget(containerSecurity(pod, c, imageUser), i.targetId),
    },
  };
}

/** The container's PID namespace becomes the target container's when it would be its own. */
function withPidTarget(
  sc: CriLinuxContainerSecurityContext,
  targetId: string | undefined,
): CriLinuxContainerSecurityContext {
  const ns = sc.namespaceOptions;
  if (!targetId || (ns?.pid ?? 'CONTAINER') !== 'CONTAINER') return sc;
  return { ...sc, namespaceOptions: { ...ns, pid: 'TARGET', targetId } };
}

/** The last `maxLines` lines / `maxBytes` bytes of a CRI log file's messages (FallbackToLogsOnError). */
export function tailCriLog(text: string, maxLines = 80, maxBytes = 2048): string {
  const out: string[] = [];
  let partial = '';
  for (const line of text.split('\n')) {
    // "<time> <stream> <P|F> <message>"
    const m = /^\S+ (?:stdout|stderr) ([PF]) ?(.*)$/.exec(line);
    if (!m) continue;
    partial += m[2] ?? '';
    if (m[1] === 'F') {
      out.push(partial);
      partial = '';
    }
  }
  let msg = out.slice(-maxLines).join('\n');
  if (out.length > 0) msg += '\n';
  const buf = Buffer.from(msg);
  return buf.length > maxBytes ? buf.subarray(buf.length - maxBytes).toString() : msg;
}
