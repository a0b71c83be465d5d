/**
 * The pod spec pieces the pod feature modules work on: the kubernetes-types definitions (type-only
 * imports, erased by esbuild), plus small accessors for a stored pod (a KObject).
 */
import type { Container, Pod, PodSpec, Probe } from 'kubernetes-types/core/v1';
import type { KObject } from '../../api/object.ts';

export type { Container, Probe };

/** The pod's spec (an empty one when absent). */
export function podSpec(pod: KObject): PodSpec {
  return ((pod as unknown as Pod).spec ?? { containers: [] }) as PodSpec;
}

/** The pod's namespace ("default" when unset, as the API server defaults it). */
export function podNamespace(pod: KObject): string {
  return pod.metadata.namespace ?? 'default';
}

/** The pod's uid (the kubelet keys every directory by it). */
export function podUid(pod: KObject): string {
  const uid = pod.metadata.uid;
  if (!uid) throw new Error(`pod ${podNamespace(pod)}/${pod.metadata.name ?? ''} has no uid`);
  return uid;
}

/** Every container of the pod, init containers first. */
export function allContainers(pod: KObject): Container[] {
  const spec = podSpec(pod);
  return [...(spec.initContainers ?? []), ...spec.containers];
}
