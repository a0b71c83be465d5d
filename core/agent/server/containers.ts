/**
 * Finds a pod's sandbox and containers on this node from the CRI labels the kubelet sets
 * (io.kubernetes.pod.namespace/name/uid, io.kubernetes.container.name) and the restart-count
 * annotation; a podUID in the request must match.
 */
import type { CriClient } from '../cri/client.ts';
import type { CriContainerState } from '../cri/types.ts';
import { RESTART_COUNT_ANNOTATION } from '../kubelet/container-config.ts';
import {
  CONTAINER_NAME_LABEL,
  POD_NAME_LABEL,
  POD_NAMESPACE_LABEL,
  POD_UID_LABEL,
} from '../kubelet/sandbox-config.ts';
import { AgentError } from './status.ts';

/** The CRI calls the agent endpoint makes. */
export type StreamCri = Pick<
  CriClient,
  'listContainers' | 'listPodSandbox' | 'containerStatus' | 'exec' | 'attach' | 'portForward'
>;

export interface PodRef {
  namespace: string;
  name: string;
  /** Checked when given. */
  uid?: string;
}

export interface ContainerInstance {
  id: string;
  podSandboxId: string;
  podUid: string;
  restartCount: number;
  state: CriContainerState;
  createdAt: number;
}

const podSelector = (pod: PodRef): Record<string, string> => ({
  [POD_NAMESPACE_LABEL]: pod.namespace,
  [POD_NAME_LABEL]: pod.name,
  ...(pod.uid ? { [POD_UID_LABEL]: pod.uid } : {}),
});

export const podNotFound = (pod: PodRef): AgentError =>
  new AgentError(404, `pod "${pod.namespace}/${pod.name}"${pod.uid ? ` (uid ${pod.uid})` : ''} not found`);

/** Every instance of one container of the pod, newest (highest restart count) first. */
export async function containerInstances(
  cri: StreamCri,
  pod: PodRef,
  container: string,
): Promise<ContainerInstance[]> {
  const list = await cri.listContainers({
    labelSelector: { ...podSelector(pod), [CONTAINER_NAME_LABEL]: container },
  });
  return list
    .map((c) => ({
      id: c.id,
      podSandboxId: c.podSandboxId,
      podUid: c.labels[POD_UID_LABEL] ?? '',
      restartCount: Number(c.annotations[RESTART_COUNT_ANNOTATION] ?? c.metadata?.attempt ?? 0) || 0,
      state: c.state,
      createdAt: c.createdAt,
    }))
    .sort((a, b) => b.restartCount - a.restartCount || b.createdAt - a.createdAt);
}

/** The pod's newest sandbox (ready ones first); 404 when the pod has none on this node. */
export async function podSandbox(cri: StreamCri, pod: PodRef): Promise<{ id: string; ready: boolean }> {
  const list = await cri.listPodSandbox({ labelSelector: podSelector(pod) });
  const best = list
    .map((s) => ({ id: s.id, ready: s.state === 'SANDBOX_READY', createdAt: s.createdAt }))
    .sort((a, b) => Number(b.ready) - Number(a.ready) || b.createdAt - a.createdAt)[0];
  if (!best) throw podNotFound(pod);
  return { id: best.id, ready: best.ready };
}

const waiting = (pod: PodRef, container: string): AgentError =>
  new AgentError(400, `container "${container}" in pod "${pod.name}" is waiting to start: ContainerCreating`);

/**
 * The container instance a stream goes to: the newest one. Without any, 400 "waiting to start" when
 * the pod has a sandbox here, else 404.
 */
export async function currentContainer(
  cri: StreamCri,
  pod: PodRef,
  container: string,
): Promise<ContainerInstance> {
  const [newest] = await containerInstances(cri, pod, container);
  if (newest && newest.state !== 'CONTAINER_CREATED') return newest;
  await podSandbox(cri, pod);
  throw waiting(pod, container);
}

/** A running container for exec/attach (the kubelet refuses others with 400). */
export async function runningContainer(
  cri: StreamCri,
  pod: PodRef,
  container: string,
): Promise<ContainerInstance> {
  const c = await currentContainer(cri, pod, container);
  if (c.state !== 'CONTAINER_RUNNING')
    throw new AgentError(400, `container ${container} is not running (state ${c.state}) in pod ${pod.name}`);
  return c;
}
