/**
 * Why RBAC allows a request: every binding that grants it, with its role and the first rule of that role
 * that matches. The bindings and rules come from the authorizer's own walk
 * (`RbacAuthorizer.visitBindingRules`, the path `authorize` takes) and each rule is matched by
 * `ruleAllows`, so an explanation never disagrees with the decision. The GUI's "view as" matrix shows
 * these next to the API server's SubjectAccessReview answers.
 */
import type { Attributes, UserInfo } from '../types.ts';
import { type RbacAuthorizer, type Subject, subjectKey, userKeys } from './authorizer.ts';
import { type PolicyRule, ruleAllows } from './rules.ts';

export interface Grant {
  binding: { kind: 'ClusterRoleBinding' | 'RoleBinding'; name: string; namespace?: string };
  role: { kind: 'ClusterRole' | 'Role'; name: string; namespace?: string };
  /** The first rule of the role that allows the request. */
  rule: PolicyRule;
}

export interface Explanation {
  /** The authorizer's decision (allow, or no opinion). */
  allowed: boolean;
  /** Every binding that grants the request, cluster-wide ones first (empty when not allowed). */
  grants: Grant[];
  /** Bindings that apply but whose role is missing ("… not found"). */
  errors: string[];
}

export function explain(rbac: RbacAuthorizer, a: Attributes): Explanation {
  const grants: Grant[] = [];
  const seen = new Set<string>();
  const errors = rbac.visitBindingRules(a.user, a.namespace, (b, rule) => {
    const key = `${b.namespace}/${b.name}`;
    if (seen.has(key) || !ruleAllows(a, rule)) return false;
    seen.add(key);
    const clusterWide = b.namespace === '';
    grants.push({
      binding: clusterWide
        ? { kind: 'ClusterRoleBinding', name: b.name }
        : { kind: 'RoleBinding', namespace: b.namespace, name: b.name },
      // Only Role and ClusterRole references resolve to rules (others are errors, never grants).
      role:
        b.roleRef.kind === 'Role'
          ? { kind: 'Role', name: b.roleRef.name, namespace: b.namespace }
          : { kind: 'ClusterRole', name: b.roleRef.name },
      rule,
    });
    return false;
  });
  return { allowed: rbac.authorize(a).decision === 'allow', grants, errors: [...new Set(errors)] };
}

/** The subjects of a binding (in `bindingNamespace`, "" for cluster bindings) that name the user. */
export function matchingSubjects(
  subjects: readonly Subject[],
  bindingNamespace: string,
  user: UserInfo,
): Subject[] {
  const keys = new Set(userKeys(user));
  return subjects.filter((s) => {
    const k = subjectKey(s, bindingNamespace);
    return k !== undefined && keys.has(k);
  });
}

/** "RoleBinding default/alice-view → ClusterRole view", as the GUI shows a grant. */
export function grantText(g: Grant): string {
  const b = g.binding.namespace ? `${g.binding.namespace}/${g.binding.name}` : g.binding.name;
  const r = g.role.namespace ? `${g.role.namespace}/${g.role.name}` : g.role.name;
  return `${g.binding.kind} ${b} → ${g.role.kind} ${r}`;
}
