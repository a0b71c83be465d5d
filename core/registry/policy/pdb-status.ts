/**
 * PodDisruptionBudget status helpers shared by the disruption controller and the eviction subresource
 * (k8s.io/component-helpers/apps/poddisruptionbudget): the DisruptionAllowed condition and which pods a
 * budget selects.
 */
import { rfc3339, type KObject } from '../../api/object.ts';
import { selectorMatches } from '../validation/selectors.ts';

export interface PdbCondition {
  type: string;
  status: string;
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export interface PdbStatus {
  observedGeneration?: number;
  /** Pod name → when the eviction subresource approved its eviction (RFC 3339). */
  disruptedPods?: Record<string, string>;
  disruptionsAllowed: number;
  currentHealthy: number;
  desiredHealthy: number;
  expectedPods: number;
  conditions?: PdbCondition[];
}

export interface PdbSpec {
  selector?: unknown;
  minAvailable?: number | string | null;
  maxUnavailable?: number | string | null;
  unhealthyPodEvictionPolicy?: string;
}

export const pdbSpec = (pdb: KObject): PdbSpec => (pdb['spec'] ?? {}) as PdbSpec;
export const pdbStatus = (pdb: KObject): Partial<PdbStatus> => (pdb['status'] ?? {}) as Partial<PdbStatus>;

/** Whether a PDB selects a pod (policy/v1: an empty selector selects every pod, a null one none). */
export function pdbSelects(pdb: KObject, pod: KObject): boolean {
  return (
    (pdb.metadata.namespace ?? '') === (pod.metadata.namespace ?? '') &&
    selectorMatches(pdbSpec(pdb).selector, pod.metadata.labels)
  );
}

/** meta.SetStatusCondition: replace by type, keeping lastTransitionTime when the status is unchanged. */
export function setPdbCondition(status: Partial<PdbStatus>, c: PdbCondition): void {
  const conds = [...(status.conditions ?? [])];
  const i = conds.findIndex((x) => x.type === c.type);
  const prev = i >= 0 ? conds[i] : undefined;
  const next = prev && prev.status === c.status ? { ...c, lastTransitionTime: prev.lastTransitionTime } : c;
  if (i >= 0) conds[i] = next;
  else conds.push(next);
  status.conditions = conds;
}

/** UpdateDisruptionAllowedCondition: True SufficientPods when disruptions are allowed, else False. */
export function setDisruptionAllowedCondition(status: Partial<PdbStatus>, now: Date): void {
  const allowed = (status.disruptionsAllowed ?? 0) > 0;
  setPdbCondition(status, {
    type: 'DisruptionAllowed',
    status: allowed ? 'True' : 'False',
    reason: allowed ? 'SufficientPods' : 'InsufficientPods',
    message: '',
    ...(status.observedGeneration ? { observedGeneration: status.observedGeneration } : {}),
    lastTransitionTime: rfc3339(now),
  });
}

/** ConditionsAreUpToDate: the DisruptionAllowed condition matches the status of the current generation. */
export function pdbConditionsUpToDate(pdb: KObject): boolean {
  const st = pdbStatus(pdb);
  const c = (st.conditions ?? []).find((x) => x.type === 'DisruptionAllowed');
  if (!c || (st.observedGeneration ?? 0) !== (pdb.metadata.generation ?? 0)) return false;
  return (st.disruptionsAllowed ?? 0) > 0
    ? c.status === 'True' && c.reason === 'SufficientPods'
    : c.status === 'False' && c.reason === 'InsufficientPods';
}
