/** Every kind outside the core group, grouped by API group, preferred version first within a group. */
import type { Strategy } from './types.ts';
import { appsStrategies } from './apps/index.ts';
import { batchStrategies } from './batch/jobs.ts';
import { rbacStrategies } from './rbac/roles.ts';
import { networkingStrategies } from './networking/ingresses.ts';
import { storageClassStrategy } from './storage/storageclasses.ts';
import { leaseStrategy } from './coordination/leases.ts';
import { endpointSliceStrategy } from './discovery/endpointslices.ts';
import { hpaV1Strategy, hpaV2Strategy } from './autoscaling/horizontalpodautoscalers.ts';
import { pdbStrategy } from './policy/poddisruptionbudgets.ts';
import { eventsV1Strategy } from './events/events.ts';
import { priorityClassStrategy } from './scheduling/priorityclasses.ts';
import { selfSubjectReviewV1, selfSubjectReviewV1beta1 } from './authentication/selfsubjectreviews.ts';
import { authorizationStrategies } from './authorization/reviews.ts';
import { customResourceDefinitionStrategy } from './apiextensions/customresourcedefinitions.ts';

export const groupStrategies: readonly Strategy[] = [
  ...appsStrategies,
  ...batchStrategies,
  hpaV2Strategy,
  hpaV1Strategy,
  selfSubjectReviewV1,
  selfSubjectReviewV1beta1,
  ...authorizationStrategies,
  ...rbacStrategies,
  ...networkingStrategies,
  storageClassStrategy,
  leaseStrategy,
  endpointSliceStrategy,
  pdbStrategy,
  eventsV1Strategy,
  priorityClassStrategy,
  customResourceDefinitionStrategy,
];
