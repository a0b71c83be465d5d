/**
 * RBAC rule matching and coverage, as Kubernetes defines them (plugin/pkg/auth/authorizer/rbac and
 * pkg/registry/rbac/validation), written anew:
 * - verbs: exact or `*`; apiGroups: exact ("" is core) or `*`;
 * - resources: `*`, exact `resource` or `resource/subresource`, or `* /subresource` (any resource's
 *   subresource of that name);
 * - resourceNames: empty = every name; otherwise the request's name must be listed (so list, watch and
 *   create without a name never match a rule with resourceNames);
 * - nonResourceURLs: exact, `*`, or a prefix ending in `*`.
 */
import type { Attributes } from '../types.ts';

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

const ALL = '*';

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.some((v) => v === ALL || v === verb);
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return (rule.apiGroups ?? []).some((g) => g === ALL || g === group);
}

export function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  for (const r of rule.resources ?? []) {
    if (r === ALL || r === combined) return true;
    if (subresource && r.length === subresource.length + 2 && r.startsWith('*/') && r.endsWith(subresource))
      return true;
  }
  return false;
}

export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(name);
}

export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  for (const u of rule.nonResourceURLs ?? []) {
    if (u === ALL || u === path) return true;
    if (u.endsWith('*') && path.startsWith(u.slice(0, -1))) return true;
  }
  return false;
}

/** Whether one rule allows the request (RuleAllows). */
export function ruleAllows(a: Attributes, rule: PolicyRule): boolean {
  if (a.resourceRequest) {
    const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    return (
      verbMatches(rule, a.verb) &&
      apiGroupMatches(rule, a.apiGroup) &&
      resourceMatches(rule, combined, a.subresource) &&
      resourceNameMatches(rule, a.name)
    );
  }
  return verbMatches(rule, a.verb) && nonResourceURLMatches(rule, a.path);
}

export function rulesAllow(a: Attributes, rules: readonly PolicyRule[]): boolean {
  for (const r of rules) if (ruleAllows(a, r)) return true;
  return false;
}

// ---- coverage (escalation checks) ----

const has = (list: readonly string[] | undefined, v: string): boolean =>
  (list ?? []).some((x) => x === ALL || x === v);

function coversResource(owner: readonly string[] | undefined, r: string): boolean {
  for (const o of owner ?? []) {
    if (o === ALL || o === r) return true;
    const slash = r.indexOf('/');
    if (slash >= 0 && o.startsWith('*/') && o.slice(2) === r.slice(slash + 1)) return true;
  }
  return false;
}

function coversURL(owner: readonly string[] | undefined, u: string): boolean {
  for (const o of owner ?? []) {
    if (o === ALL || o === u) return true;
    if (o.endsWith('*') && u.startsWith(o.slice(0, -1))) return true;
  }
  return false;
}

/** Splits a rule into rules of one verb, one group, one resource and at most one name (BreakdownRule). */
export function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const g of rule.apiGroups ?? [])
    for (const r of rule.resources ?? [])
      for (const v of rule.verbs) {
        const names = rule.resourceNames ?? [];
        if (names.length)
          for (const n of names) out.push({ apiGroups: [g], resources: [r], resourceNames: [n], verbs: [v] });
        else out.push({ apiGroups: [g], resources: [r], verbs: [v] });
      }
  for (const u of rule.nonResourceURLs ?? [])
    for (const v of rule.verbs) out.push({ nonResourceURLs: [u], verbs: [v] });
  return out;
}

/** Whether an owner rule covers an atomic (broken down) requested rule. */
function ruleCovers(owner: PolicyRule, req: PolicyRule): boolean {
  if (!req.verbs.every((v) => has(owner.verbs, v))) return false;
  if (req.nonResourceURLs?.length)
    return req.nonResourceURLs.every((u) => coversURL(owner.nonResourceURLs, u));
  if (!(req.apiGroups ?? []).every((g) => has(owner.apiGroups, g))) return false;
  if (!(req.resources ?? []).every((r) => coversResource(owner.resources, r))) return false;
  const ownerNames = owner.resourceNames ?? [];
  if (!ownerNames.length) return true;
  const names = req.resourceNames ?? [];
  return names.length > 0 && names.every((n) => ownerNames.includes(n));
}

/** The atomic rules of `requested` that no rule of `owner` covers (validation.Covers). */
export function uncoveredRules(owner: readonly PolicyRule[], requested: readonly PolicyRule[]): PolicyRule[] {
  const missing: PolicyRule[] = [];
  for (const r of requested)
    for (const atom of breakdownRule(r)) if (!owner.some((o) => ruleCovers(o, atom))) missing.push(atom);
  return missing;
}

/** Merges simple rules (one group, one resource, no names) that differ only in verbs (CompactRules). */
export function compactRules(rules: readonly PolicyRule[]): PolicyRule[] {
  const out: PolicyRule[] = [];
  const simple = new Map<string, PolicyRule>();
  for (const r of rules) {
    const simpleRule =
      !r.nonResourceURLs?.length &&
      !r.resourceNames?.length &&
      r.apiGroups?.length === 1 &&
      r.resources?.length === 1;
    if (!simpleRule) {
      out.push(r);
      continue;
    }
    const key = `${r.apiGroups![0]!}\u0000${r.resources![0]!}`;
    const cur = simple.get(key);
    if (cur) {
      for (const v of r.verbs) if (!cur.verbs.includes(v)) cur.verbs.push(v);
    } else {
      const copy: PolicyRule = {
        apiGroups: [...r.apiGroups!],
        resources: [...r.resources!],
        verbs: [...r.verbs],
      };
      simple.set(key, copy);
      out.push(copy);
    }
  }
  return out;
}

/** Go's %q of a []string: ["a" "b"]. */
const q = (l: readonly string[]): string => `[${l.map((s) => JSON.stringify(s)).join(' ')}]`;

/** rbacv1helpers.CompactString: {APIGroups:[""], Resources:["pods"], Verbs:["get"]}. */
export function compactString(r: PolicyRule): string {
  const parts: string[] = [];
  if (r.apiGroups?.length) parts.push(`APIGroups:${q(r.apiGroups)}`);
  if (r.resources?.length) parts.push(`Resources:${q(r.resources)}`);
  if (r.nonResourceURLs?.length) parts.push(`NonResourceURLs:${q(r.nonResourceURLs)}`);
  if (r.resourceNames?.length) parts.push(`ResourceNames:${q(r.resourceNames)}`);
  if (r.verbs.length) parts.push(`Verbs:${q(r.verbs)}`);
  return `{${parts.join(', ')}}`;
}

/** Go's %q of a []string, exported for messages that quote groups. */
export const goQuoteList = q;
