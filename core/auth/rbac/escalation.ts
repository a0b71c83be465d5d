/**
 * RBAC escalation prevention (pkg/registry/rbac/{role,clusterrole,rolebinding,clusterrolebinding}/
 * policybased and pkg/registry/rbac/validation), as a validating admission step for writes of the four
 * kinds, written anew:
 * - a Role or ClusterRole may only grant what the writer already holds through RBAC in that namespace
 *   (cluster-wide for ClusterRoles), unless the writer may `escalate` that role; an aggregationRule
 *   needs full authority;
 * - a binding may only reference a role whose permissions the writer holds, unless the writer may
 *   `bind` that role;
 * - members of system:masters skip these checks.
 */
import type { KObject } from '../../api/object.ts';
import { errors } from '../../api/status.ts';
import type { AdmissionPlugin } from '../../apiserver/generic-registry.ts';
import type { RequestContext } from '../../registry/types.ts';
import { type Authorizer, SYSTEM_MASTERS, type UserInfo } from '../types.ts';
import { resourceAttributes } from '../attributes.ts';
import type { RbacAuthorizer, RoleRef } from './authorizer.ts';
import { RBAC_GROUP } from './policy-source.ts';
import { compactRules, compactString, goQuoteList, type PolicyRule, uncoveredRules } from './rules.ts';

const FULL_AUTHORITY: PolicyRule[] = [
  { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  { verbs: ['*'], nonResourceURLs: ['*'] },
];

/** ConfirmNoEscalation: undefined when the user holds every rule, else the reason. */
export function escalationProblem(
  rbac: RbacAuthorizer,
  user: UserInfo,
  namespace: string,
  requested: readonly PolicyRule[],
): string | undefined {
  const own = rbac.rulesOf(user, namespace);
  const missing = uncoveredRules(own.rules, requested);
  if (!missing.length) return undefined;
  const lines = compactRules(missing)
    .map(compactString)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let msg =
    `user ${JSON.stringify(user.username)} (groups=${goQuoteList(user.groups)}) is attempting to grant RBAC ` +
    `permissions not currently held:\n${lines.join('\n')}`;
  if (own.errors.length) msg += `; resolution errors: [${own.errors.join(' ')}]`;
  return msg;
}

/** Only fields the garbage collector writes changed (IsOnlyMutatingGCFields, roughly). */
function onlyMetadataBookkeeping(obj: KObject, old: KObject | undefined): boolean {
  if (!old) return false;
  const strip = (o: KObject): string => {
    const {
      ownerReferences: _o,
      finalizers: _f,
      resourceVersion: _r,
      managedFields: _m,
      ...meta
    } = o.metadata;
    return JSON.stringify({ ...o, metadata: meta, apiVersion: undefined, kind: undefined });
  };
  return strip(obj) === strip(old);
}

export function rbacEscalationAdmission(rbac: RbacAuthorizer, lookup: () => Authorizer): AdmissionPlugin {
  const allowedVerb = (
    ctx: RequestContext,
    verb: string,
    resource: string,
    ns: string,
    name: string,
  ): boolean =>
    lookup().authorize(resourceAttributes(ctx.user, verb, resource, { group: RBAC_GROUP, ns, name }))
      .decision === 'allow';

  return {
    name: 'RBACEscalation',
    validate(op, s, obj, old, ctx) {
      if (op === 'DELETE' || s.strategy.info.group !== RBAC_GROUP) return;
      if (ctx.user.groups.includes(SYSTEM_MASTERS)) return;
      if (op === 'UPDATE' && onlyMetadataBookkeeping(obj, old)) return;
      const resource = s.strategy.info.resource;
      const gr = { group: RBAC_GROUP, resource };
      const ns = s.strategy.info.namespaced ? (obj.metadata.namespace ?? '') : '';
      const name = obj.metadata.name ?? '';
      if (resource === 'roles' || resource === 'clusterroles') {
        if (allowedVerb(ctx, 'escalate', resource, ns, name)) return;
        const why = escalationProblem(rbac, ctx.user, ns, (obj['rules'] ?? []) as PolicyRule[]);
        if (why) throw errors.forbidden(gr, name, why);
        const agg = obj['aggregationRule'];
        if (
          resource === 'clusterroles' &&
          agg &&
          JSON.stringify(agg) !== JSON.stringify(old?.['aggregationRule']) &&
          escalationProblem(rbac, ctx.user, '', FULL_AUTHORITY)
        )
          throw errors.forbidden(gr, name, 'must have cluster-admin privileges to use the aggregationRule');
        return;
      }
      if (resource === 'rolebindings' || resource === 'clusterrolebindings') {
        const ref = (obj['roleRef'] ?? { kind: '', name: '' }) as RoleRef;
        const refResource = ref.kind === 'Role' ? 'roles' : 'clusterroles';
        if (allowedVerb(ctx, 'bind', refResource, ns, ref.name)) return;
        const rules = rbac.roleRefRules(ref, ns);
        if (typeof rules === 'string') throw errors.forbidden(gr, name, rules);
        const why = escalationProblem(rbac, ctx.user, ns, rules);
        if (why) throw errors.forbidden(gr, name, why);
      }
    },
  };
}
