import type { Strategy } from '../types.ts';
import { deploymentStrategy } from './deployments.ts';
import { replicaSetStrategy } from './replicasets.ts';
import { daemonSetStrategy } from './daemonsets.ts';
import { statefulSetStrategy } from './statefulsets.ts';
import { controllerRevisionStrategy } from './controllerrevisions.ts';

export const appsStrategies: readonly Strategy[] = [
  controllerRevisionStrategy,
  daemonSetStrategy,
  deploymentStrategy,
  replicaSetStrategy,
  statefulSetStrategy,
];
