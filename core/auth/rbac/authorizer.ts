/**
 * The RBAC authorizer (plugin/pkg/auth/authorizer/rbac), written anew. Roles, ClusterRoles, RoleBindings
 * and ClusterRoleBindings are kept in memory, fed by watches of the store (see `watchPolicy`); bindings
 * are indexed by subject (user name, group, service-account user name), so one check costs only the rules
 * of the bindings that name the requesting user or one of its groups.
 *
 * Decision: allow when a rule of a ClusterRoleBinding, or of a RoleBinding in the request's namespace,
 * that applies to the user allows the request; otherwise no opinion, with the reason
 * `RBAC: <errors>` when a binding that applies refers to a role that does not exist.
 */
import type { KObject } from '../../api/object.ts';
import type {
  Attributes,
  Authorizer,
  AuthorizerResult,
  NonResourceRule,
  ResourceRule,
  RulesResult,
  UserInfo,
} from '../types.ts';
import { type PolicyRule, ruleAllows } from './rules.ts';

export interface Subject {
  kind: string;
  name: string;
  namespace?: string;
  apiGroup?: string;
}
export interface RoleRef {
  kind: string;
  name: string;
  apiGroup?: string;
}

/** A binding as the index keeps it (its subjects live in the index keys). */
export interface Binding {
  /** "" for ClusterRoleBindings. */
  namespace: string;
  name: string;
  roleRef: RoleRef;
}

const SA_PREFIX = 'system:serviceaccount:';

/** The index key a subject of a binding in `namespace` matches requests by. */
export function subjectKey(s: Subject, namespace: string): string | undefined {
  switch (s.kind) {
    case 'User':
      return `u:${s.name}`;
    case 'Group':
      return `g:${s.name}`;
    case 'ServiceAccount': {
      const ns = s.namespace || namespace;
      return ns ? `u:${SA_PREFIX}${ns}:${s.name}` : undefined;
    }
    default:
      return undefined;
  }
}

/** The index keys a user matches bindings by: its name and each of its groups. */
export function userKeys(u: UserInfo): string[] {
  const keys = [`u:${u.username}`];
  for (const g of u.groups) keys.push(`g:${g}`);
  return keys;
}

/** Bindings of one scope (cluster, or one namespace) by subject key. */
class BindingIndex {
  private readonly bySubject = new Map<string, Map<string, Binding>>();
  private readonly keysOf = new Map<string, string[]>();

  set(b: Binding, subjects: readonly Subject[]): void {
    this.remove(b.name);
    const keys = [
      ...new Set(subjects.map((s) => subjectKey(s, b.namespace)).filter((k): k is string => !!k)),
    ];
    this.keysOf.set(b.name, keys);
    for (const k of keys) {
      let m = this.bySubject.get(k);
      if (!m) this.bySubject.set(k, (m = new Map()));
      m.set(b.name, b);
    }
  }

  remove(name: string): void {
    for (const k of this.keysOf.get(name) ?? []) {
      const m = this.bySubject.get(k);
      m?.delete(name);
      if (m && !m.size) this.bySubject.delete(k);
    }
    this.keysOf.delete(name);
  }

  /** The bindings naming any of the keys, each once. */
  matching(keys: readonly string[], out: Binding[]): void {
    const hits: Map<string, Binding>[] = [];
    for (const k of keys) {
      const m = this.bySubject.get(k);
      if (m) hits.push(m);
    }
    if (hits.length === 1) {
      for (const b of hits[0]!.values()) out.push(b);
      return;
    }
    const seen = new Set<string>();
    for (const m of hits)
      for (const [name, b] of m) {
        if (seen.has(name)) continue;
        seen.add(name);
        out.push(b);
      }
  }

  get size(): number {
    return this.keysOf.size;
  }
}

export interface RoleRulesLookup {
  /** The rules of a role reference, or the "not found" error text. */
  roleRefRules(ref: RoleRef, namespace: string): PolicyRule[] | string;
}

export class RbacAuthorizer implements Authorizer, RoleRulesLookup {
  private readonly clusterRoles = new Map<string, PolicyRule[]>();
  private readonly roles = new Map<string, PolicyRule[]>();
  private readonly clusterBindings = new BindingIndex();
  private readonly namespaceBindings = new Map<string, BindingIndex>();

  // ---- feeding the index (watch events) ----

  setClusterRole(name: string, rules: PolicyRule[] | undefined): void {
    if (rules) this.clusterRoles.set(name, rules);
    else this.clusterRoles.delete(name);
  }
  setRole(namespace: string, name: string, rules: PolicyRule[] | undefined): void {
    if (rules) this.roles.set(`${namespace}/${name}`, rules);
    else this.roles.delete(`${namespace}/${name}`);
  }
  setClusterRoleBinding(name: string, roleRef: RoleRef, subjects: readonly Subject[]): void {
    this.clusterBindings.set({ namespace: '', name, roleRef }, subjects);
  }
  deleteClusterRoleBinding(name: string): void {
    this.clusterBindings.remove(name);
  }
  setRoleBinding(namespace: string, name: string, roleRef: RoleRef, subjects: readonly Subject[]): void {
    let idx = this.namespaceBindings.get(namespace);
    if (!idx) this.namespaceBindings.set(namespace, (idx = new BindingIndex()));
    idx.set({ namespace, name, roleRef }, subjects);
  }
  deleteRoleBinding(namespace: string, name: string): void {
    const idx = this.namespaceBindings.get(namespace);
    idx?.remove(name);
    if (idx && !idx.size) this.namespaceBindings.delete(namespace);
  }

  /** Applies a watch event of one of the four kinds. */
  apply(kind: string, type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KObject): void {
    const ns = obj.metadata.namespace ?? '';
    const name = obj.metadata.name ?? '';
    const gone = type === 'DELETED';
    const rules = gone ? undefined : ((obj['rules'] ?? []) as PolicyRule[]);
    const ref = (obj['roleRef'] ?? { kind: '', name: '' }) as RoleRef;
    const subjects = (obj['subjects'] ?? []) as Subject[];
    switch (kind) {
      case 'ClusterRole':
        return this.setClusterRole(name, rules);
      case 'Role':
        return this.setRole(ns, name, rules);
      case 'ClusterRoleBinding':
        return gone ? this.deleteClusterRoleBinding(name) : this.setClusterRoleBinding(name, ref, subjects);
      case 'RoleBinding':
        return gone ? this.deleteRoleBinding(ns, name) : this.setRoleBinding(ns, name, ref, subjects);
    }
  }

  // ---- evaluation ----

  roleRefRules(ref: RoleRef, namespace: string): PolicyRule[] | string {
    if (ref.kind === 'ClusterRole')
      return (
        this.clusterRoles.get(ref.name) ?? `clusterrole.rbac.authorization.k8s.io "${ref.name}" not found`
      );
    if (ref.kind === 'Role')
      return (
        this.roles.get(`${namespace}/${ref.name}`) ?? `role.rbac.authorization.k8s.io "${ref.name}" not found`
      );
    return `unsupported role reference kind: "${ref.kind}"`;
  }

  /** The bindings that apply to the user: cluster-wide first, then those of the namespace. */
  private bindingsFor(user: UserInfo, namespace: string): Binding[] {
    const keys = userKeys(user);
    const out: Binding[] = [];
    this.clusterBindings.matching(keys, out);
    if (namespace) this.namespaceBindings.get(namespace)?.matching(keys, out);
    return out;
  }

  /**
   * Visits the rules that apply to the user in the namespace ("" = cluster rules only); `visit` returns
   * true to stop. Returns the resolution errors met on the way.
   */
  visitRules(user: UserInfo, namespace: string, visit: (r: PolicyRule) => boolean): string[] {
    return this.visitBindingRules(user, namespace, (_b, r) => visit(r));
  }

  /** As `visitRules`, also naming the binding each rule comes from (explanations, see explain.ts). */
  visitBindingRules(
    user: UserInfo,
    namespace: string,
    visit: (b: Binding, r: PolicyRule) => boolean,
  ): string[] {
    const errs: string[] = [];
    for (const b of this.bindingsFor(user, namespace)) {
      const rules = this.roleRefRules(b.roleRef, b.namespace);
      if (typeof rules === 'string') {
        errs.push(rules);
        continue;
      }
      for (const r of rules) if (visit(b, r)) return errs;
    }
    return errs;
  }

  /** The user's RBAC rules in the namespace (the rule resolver escalation checks use). */
  rulesOf(user: UserInfo, namespace: string): { rules: PolicyRule[]; errors: string[] } {
    const rules: PolicyRule[] = [];
    const errors = this.visitRules(user, namespace, (r) => {
      rules.push(r);
      return false;
    });
    return { rules, errors };
  }

  authorize(a: Attributes): AuthorizerResult {
    let allowed = false;
    const errs = this.visitRules(a.user, a.namespace, (r) => (allowed = ruleAllows(a, r)));
    if (allowed) return { decision: 'allow', reason: '' };
    return { decision: 'noOpinion', reason: errs.length ? `RBAC: ${aggregate(errs)}` : '' };
  }

  rulesFor(user: UserInfo, namespace: string): RulesResult {
    const { rules, errors } = this.rulesOf(user, namespace);
    const resourceRules: ResourceRule[] = [];
    const nonResourceRules: NonResourceRule[] = [];
    for (const r of rules) {
      if (r.nonResourceURLs?.length)
        nonResourceRules.push({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs });
      if (r.resources?.length)
        resourceRules.push({
          verbs: r.verbs,
          apiGroups: r.apiGroups ?? [],
          resources: r.resources,
          ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}),
        });
    }
    return {
      resourceRules,
      nonResourceRules,
      incomplete: errors.length > 0,
      ...(errors.length ? { evaluationError: aggregate(errors) } : {}),
    };
  }
}

/** utilerrors.NewAggregate(...).Error(): one message as is, several as [a, b]. */
function aggregate(msgs: readonly string[]): string {
  const uniq = [...new Set(msgs)];
  return uniq.length === 1 ? uniq[0]! : `[${uniq.join(', ')}]`;
}
