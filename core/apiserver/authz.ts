/**
 * Authorization chain and Kubernetes' forbidden messages. Until RBAC lands (its own issue), the bootstrap
 * authorizer allows system:masters and the exported admin group, the public-info paths for everyone, and
 * denies the rest. RBAC plugs in as another Authorizer in the chain.
 */
import type { Attributes, Authorizer, AuthorizerResult, RulesResult, UserInfo } from '../auth/types.ts';
import { CLUSTER_ADMINS_GROUP, SYSTEM_MASTERS } from '../auth/types.ts';

const PUBLIC_PATHS = ['/healthz', '/livez', '/readyz', '/version'];

const ALL_RULES: RulesResult = {
  resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
  nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
  incomplete: false,
};

/** system:masters and the admin group: everything (what cluster-admin grants). */
export class SuperuserAuthorizer implements Authorizer {
  /**
   * `users`: identities allowed everything until RBAC gives them their own roles (the in-process
   * controller manager).
   */
  constructor(
    private readonly users: readonly string[] = [],
    private readonly groups: readonly string[] = [SYSTEM_MASTERS, CLUSTER_ADMINS_GROUP],
  ) {}
  private isSuper(u: UserInfo): boolean {
    return this.users.includes(u.username) || u.groups.some((g) => this.groups.includes(g));
  }
  authorize(a: Attributes): AuthorizerResult {
    return this.isSuper(a.user) ? { decision: 'allow', reason: '' } : { decision: 'noOpinion', reason: '' };
  }
  rulesFor(user: UserInfo): RulesResult {
    return this.isSuper(user) ? ALL_RULES : { resourceRules: [], nonResourceRules: [], incomplete: false };
  }
}

/** What system:public-info-viewer and system:discovery grant everyone (health, version, discovery). */
export class PublicInfoAuthorizer implements Authorizer {
  authorize(a: Attributes): AuthorizerResult {
    if (!a.resourceRequest && a.verb === 'get') {
      const p = a.path;
      if (PUBLIC_PATHS.some((x) => p === x || p.startsWith(`${x}/`)))
        return { decision: 'allow', reason: '' };
      const authenticated = a.user.groups.includes('system:authenticated');
      if (
        authenticated &&
        (p === '/api' ||
          p === '/apis' ||
          p.startsWith('/api/') ||
          p.startsWith('/apis/') ||
          p.startsWith('/openapi'))
      )
        return { decision: 'allow', reason: '' };
    }
    // SelfSubject* reviews are granted to all authenticated users (system:basic-user).
    if (
      a.resourceRequest &&
      a.verb === 'create' &&
      a.user.groups.includes('system:authenticated') &&
      ((a.apiGroup === 'authorization.k8s.io' &&
        (a.resource === 'selfsubjectaccessreviews' || a.resource === 'selfsubjectrulesreviews')) ||
        (a.apiGroup === 'authentication.k8s.io' && a.resource === 'selfsubjectreviews'))
    )
      return { decision: 'allow', reason: '' };
    return { decision: 'noOpinion', reason: '' };
  }
  rulesFor(user: UserInfo): RulesResult {
    const authenticated = user.groups.includes('system:authenticated');
    return {
      resourceRules: authenticated
        ? [
            {
              verbs: ['create'],
              apiGroups: ['authorization.k8s.io'],
              resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'],
            },
            { verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'] },
          ]
        : [],
      nonResourceRules: [
        { verbs: ['get'], nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'] },
        ...(authenticated
          ? [
              {
                verbs: ['get'],
                nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/openapi', '/openapi/*'],
              },
            ]
          : []),
      ],
      incomplete: false,
    };
  }
}

/** Runs authorizers in order; the first allow or deny wins; no opinion from all = deny. */
export class AuthorizerChain implements Authorizer {
  constructor(readonly authorizers: Authorizer[]) {}
  authorize(a: Attributes): AuthorizerResult {
    const reasons: string[] = [];
    for (const z of this.authorizers) {
      const r = z.authorize(a);
      if (r.decision !== 'noOpinion') return r;
      if (r.reason) reasons.push(r.reason);
    }
    return { decision: 'noOpinion', reason: reasons.join(', ') };
  }
  rulesFor(user: UserInfo, namespace: string): RulesResult {
    const out: RulesResult = { resourceRules: [], nonResourceRules: [], incomplete: false };
    for (const z of this.authorizers) {
      const r = z.rulesFor(user, namespace);
      out.resourceRules.push(...r.resourceRules);
      out.nonResourceRules.push(...r.nonResourceRules);
      out.incomplete ||= r.incomplete;
      if (r.evaluationError)
        out.evaluationError = [out.evaluationError, r.evaluationError].filter(Boolean).join('; ');
    }
    return out;
  }
}

/** The "why" part of a Forbidden message, as the apiserver's forbiddenMessage builds it. */
export function forbiddenReason(a: Attributes, authzReason: string): string {
  const who = `User "${a.user.username}"`;
  let msg: string;
  if (!a.resourceRequest) {
    msg = `${who} cannot ${a.verb} path "${a.path}"`;
  } else {
    const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    msg = `${who} cannot ${a.verb} resource "${res}" in API group "${a.apiGroup}"`;
    msg += a.namespace ? ` in the namespace "${a.namespace}"` : ' at the cluster scope';
  }
  return authzReason ? `${msg}: ${authzReason}` : msg;
}
