/** A pod's Ready condition (podutil.GetPodReadyCondition / IsPodReady), shared by controllers and the API server. */
import type { KObject } from './object.ts';

export interface PodCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export function podReadyCondition(p: KObject): PodCondition | undefined {
  const conditions = ((p['status'] ?? {}) as { conditions?: PodCondition[] }).conditions ?? [];
  return conditions.find((c) => c.type === 'Ready');
}

export function isPodReady(p: KObject): boolean {
  return podReadyCondition(p)?.status === 'True';
}
