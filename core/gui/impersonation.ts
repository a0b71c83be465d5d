/**
 * "View as": a KubeConfig whose every request — plain requests, watches (fetch) and exec WebSockets,
 * which all take their options from `applyToHTTPSOptions` — carries Impersonate-User and
 * Impersonate-Group headers. The API server then authenticates us, checks that we may impersonate,
 * and authorizes each request as the subject.
 */
import { KubeConfig } from '@kubernetes/client-node';
import type { RbacSubject } from './contract.ts';

export interface Impersonation {
  user: string;
  groups: string[];
}

const SA_PREFIX = 'system:serviceaccount:';

/**
 * The identity a subject is impersonated as. A service account is its user name (the API server adds
 * its groups); a group needs a user too (Impersonate-Group alone is refused): `view-as:<group>`.
 */
export function impersonationOf(s: RbacSubject): Impersonation {
  switch (s.kind) {
    case 'User':
      return { user: s.name, groups: [...(s.groups ?? [])] };
    case 'Group':
      return { user: `view-as:${s.name}`, groups: [s.name] };
    case 'ServiceAccount':
      return { user: `${SA_PREFIX}${s.namespace}:${s.name}`, groups: [] };
  }
}

/** The user and groups the API server sees for the subject (system:authenticated included). */
export function effectiveUser(s: RbacSubject): { username: string; groups: string[] } {
  const { user, groups } = impersonationOf(s);
  const all = [...groups];
  if (s.kind === 'ServiceAccount')
    all.push('system:serviceaccounts', `system:serviceaccounts:${s.namespace}`);
  all.push('system:authenticated');
  return { username: user, groups: [...new Set(all)] };
}

type HeaderBag = Record<string, string | string[] | number | undefined>;

class ImpersonatingKubeConfig extends KubeConfig {
  constructor(private readonly as: Impersonation) {
    super();
  }

  override async applyToHTTPSOptions(opts: Parameters<KubeConfig['applyToHTTPSOptions']>[0]): Promise<void> {
    await super.applyToHTTPSOptions(opts);
    const headers: HeaderBag = { ...(opts.headers as HeaderBag | undefined) };
    headers['Impersonate-User'] = this.as.user;
    if (this.as.groups.length) headers['Impersonate-Group'] = [...this.as.groups];
    else delete headers['Impersonate-Group'];
    // http.request and ws both send an array as one header line per value.
    opts.headers = headers as typeof opts.headers;
  }
}

/** A copy of `kc` (same clusters, users and current context) that impersonates `as`. */
export function impersonatingKubeConfig(kc: KubeConfig, as: Impersonation): KubeConfig {
  const out = new ImpersonatingKubeConfig(as);
  out.loadFromOptions({
    clusters: kc.clusters,
    users: kc.users,
    contexts: kc.contexts,
    currentContext: kc.getCurrentContext(),
  });
  return out;
}
