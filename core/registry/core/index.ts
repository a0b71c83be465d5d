/** All core/v1 strategies, in the order /api/v1 discovery lists them. */
import type { Strategy } from '../types.ts';
import { configMapStrategy } from './configmaps.ts';
import { endpointsStrategy } from './endpoints.ts';
import { eventStrategy } from './events.ts';
import { limitRangeStrategy } from './limitranges.ts';
import { namespaceStrategy } from './namespaces.ts';
import { nodeStrategy } from './nodes.ts';
import { persistentVolumeClaimStrategy } from './persistentvolumeclaims.ts';
import { persistentVolumeStrategy } from './persistentvolumes.ts';
import { podStrategy } from './pods.ts';
import { podTemplateStrategy } from './podtemplates.ts';
import { replicationControllerStrategy } from './replicationcontrollers.ts';
import { resourceQuotaStrategy } from './resourcequotas.ts';
import { secretStrategy } from './secrets.ts';
import { serviceAccountStrategy } from './serviceaccounts.ts';
import { serviceStrategy } from './services.ts';

export const coreV1Strategies: readonly Strategy[] = [
  configMapStrategy,
  endpointsStrategy,
  eventStrategy,
  limitRangeStrategy,
  namespaceStrategy,
  nodeStrategy,
  persistentVolumeClaimStrategy,
  persistentVolumeStrategy,
  podStrategy,
  podTemplateStrategy,
  replicationControllerStrategy,
  resourceQuotaStrategy,
  secretStrategy,
  serviceAccountStrategy,
  serviceStrategy,
];

export type { CoreStrategy } from './common.ts';
export { ServiceAllocator } from './service-allocator.ts';
export { serviceAccountAdmission, applyPriority, addDefaultTolerations, computePodQOS } from './pods.ts';
export { validateNamespaceFinalize } from './namespaces.ts';
