/**
 * Every kind Berth serves: the core/v1 strategies and those of the other API groups, in discovery order.
 */
import type { Strategy } from './types.ts';
import { coreV1Strategies } from './core/index.ts';
import { groupStrategies } from './groups.ts';

/** Kinds whose objects keep metadata.generation (their REST strategies set it on create). */
const GENERATION_KINDS = new Set([
  '/replicationcontrollers',
  'apps/deployments',
  'apps/replicasets',
  'apps/statefulsets',
  'apps/daemonsets',
  'batch/jobs',
  'batch/cronjobs',
  'networking.k8s.io/ingresses',
  'networking.k8s.io/ingressclasses',
  'networking.k8s.io/networkpolicies',
  'policy/poddisruptionbudgets',
]);

export function allStrategies(): Strategy[] {
  return [...coreV1Strategies, ...groupStrategies].map((s) =>
    GENERATION_KINDS.has(`${s.info.group}/${s.info.resource}`) && s.tracksGeneration === undefined
      ? { ...s, tracksGeneration: true }
      : s,
  );
}
