/** Building authorizer Attributes for a resource request (reviews, escalation checks, tests). */
import type { Attributes, UserInfo } from './types.ts';

export interface ResourceTarget {
  group?: string;
  /** Namespace ("" = cluster scope). */
  ns?: string;
  name?: string;
  sub?: string;
}

export function resourceAttributes(
  user: UserInfo,
  verb: string,
  resource: string,
  o: ResourceTarget = {},
): Attributes {
  return {
    user,
    verb,
    resourceRequest: true,
    apiGroup: o.group ?? '',
    apiVersion: '',
    resource,
    subresource: o.sub ?? '',
    namespace: o.ns ?? '',
    name: o.name ?? '',
    path: '',
  };
}
