/**
 * Authentication and authorization contracts. The API server runs: authenticators → impersonation →
 * authorizer chain → admission. RBAC (its own issue) plugs in as one more Authorizer in the chain.
 */
import type { UserInfo } from '../registry/types.ts';

export type { UserInfo };

/** What an authorizer is asked, as Kubernetes' authorizer.Attributes. */
export interface Attributes {
  user: UserInfo;
  verb: string; // get list watch create update patch delete deletecollection impersonate bind escalate …
  resourceRequest: boolean;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  /** For non-resource requests: the URL path. */
  path: string;
}

export type Decision = 'allow' | 'deny' | 'noOpinion';

export interface AuthorizerResult {
  decision: Decision;
  reason: string;
}

export interface ResourceRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
}
export interface NonResourceRule {
  verbs: string[];
  nonResourceURLs?: string[];
}
export interface RulesResult {
  resourceRules: ResourceRule[];
  nonResourceRules: NonResourceRule[];
  incomplete: boolean;
  evaluationError?: string;
}

export interface Authorizer {
  authorize(a: Attributes): AuthorizerResult;
  /** The rules a user has in a namespace (SelfSubjectRulesReview). */
  rulesFor(user: UserInfo, namespace: string): RulesResult;
}

/** An authenticator looks at a request's credentials; undefined = no opinion (try the next). */
export interface TokenAuthenticator {
  authenticateToken(token: string): UserInfo | undefined;
}

export const SYSTEM_MASTERS = 'system:masters';
/** The group the exported admin certificate carries; bound to cluster-admin (never system:masters). */
export const CLUSTER_ADMINS_GROUP = 'berth:cluster-admins';
export const AUTHENTICATED = 'system:authenticated';
export const UNAUTHENTICATED = 'system:unauthenticated';
export const ANONYMOUS_USER = 'system:anonymous';
