/**
 * Where PodSecurity finds a pod (k8s.io/pod-security-admission admission/api and admission.go): the
 * pod template of the workload kinds (upstream's DefaultPodSpecExtractor) and which pod updates are
 * worth evaluating again (isSignificantPodUpdate: a changed image, a changed seccomp annotation, a
 * different number of containers, or a new ephemeral container).
 */
import type { Container, PodSpec } from 'kubernetes-types/core/v1';
import type { KObject } from '../../../api/object.ts';
import type { PodMeta } from './check-helpers.ts';

/** group/resource → how to reach the pod template of that kind. */
const TEMPLATE_PATHS: ReadonlyMap<string, readonly string[]> = new Map([
  ['/replicationcontrollers', ['spec', 'template']],
  ['/podtemplates', ['template']],
  ['apps/replicasets', ['spec', 'template']],
  ['apps/deployments', ['spec', 'template']],
  ['apps/statefulsets', ['spec', 'template']],
  ['apps/daemonsets', ['spec', 'template']],
  ['batch/jobs', ['spec', 'template']],
  ['batch/cronjobs', ['spec', 'jobTemplate', 'spec', 'template']],
]);

export const hasPodTemplate = (group: string, resource: string): boolean =>
  TEMPLATE_PATHS.has(`${group}/${resource}`);

export interface PodView {
  meta: PodMeta;
  spec: PodSpec;
}

const asRecord = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

/** The pod template of a workload object, or undefined when it has none (e.g. an RC without template). */
export function podTemplateOf(group: string, resource: string, obj: KObject): PodView | undefined {
  const path = TEMPLATE_PATHS.get(`${group}/${resource}`);
  if (!path) return undefined;
  let cur: Record<string, unknown> | undefined = obj;
  for (const key of path) cur = asRecord(cur?.[key]);
  if (!cur) return undefined;
  return {
    meta: (asRecord(cur['metadata']) ?? {}) as PodMeta,
    spec: (asRecord(cur['spec']) ?? {}) as unknown as PodSpec,
  };
}

export const podViewOf = (pod: KObject): PodView => ({
  meta: pod.metadata as PodMeta,
  spec: (asRecord(pod['spec']) ?? {}) as unknown as PodSpec,
});

const SECCOMP_POD_ANNOTATION = 'seccomp.security.alpha.kubernetes.io/pod';
const SECCOMP_CONTAINER_PREFIX = 'container.seccomp.security.alpha.kubernetes.io/';

/** Whether a pod update changed anything PodSecurity looks at. */
export function isSignificantPodUpdate(pod: PodView, old: PodView): boolean {
  const ann = pod.meta.annotations ?? {};
  const oldAnn = old.meta.annotations ?? {};
  if (ann[SECCOMP_POD_ANNOTATION] !== oldAnn[SECCOMP_POD_ANNOTATION]) return true;
  const changed = (c: Container, o: Container): boolean =>
    c.image !== o.image ||
    ann[SECCOMP_CONTAINER_PREFIX + c.name] !== oldAnn[SECCOMP_CONTAINER_PREFIX + c.name];
  const pairs = (a: readonly Container[] | undefined, b: readonly Container[] | undefined): boolean => {
    const x = a ?? [];
    const y = b ?? [];
    return x.length !== y.length || x.some((c, i) => changed(c, y[i]!));
  };
  if (pairs(pod.spec.containers, old.spec.containers)) return true;
  if (pairs(pod.spec.initContainers, old.spec.initContainers)) return true;
  const oldEphemeral = (old.spec.ephemeralContainers ?? []) as Container[];
  return ((pod.spec.ephemeralContainers ?? []) as Container[]).some((c) => {
    const o = oldEphemeral.find((e) => e.name === c.name);
    return !o || changed(c, o);
  });
}
