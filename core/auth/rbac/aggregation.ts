/**
 * ClusterRole aggregation (pkg/controller/clusterroleaggregation), the pure part: the rules of a
 * ClusterRole with an aggregationRule are the rules of every other ClusterRole matched by one of its
 * clusterRoleSelectors, selector by selector, roles by name, each distinct rule once.
 */
import type { KObject } from '../../api/object.ts';
import { fromLabelSelectorObject, matchesLabels } from '../../apiserver/label-selector.ts';
import type { PolicyRule } from './rules.ts';

export function aggregationSelectors(role: KObject): unknown[] | undefined {
  const rule = role['aggregationRule'] as { clusterRoleSelectors?: unknown[] } | undefined;
  return rule ? (rule.clusterRoleSelectors ?? []) : undefined;
}

export function aggregatedRules(role: KObject, all: readonly KObject[]): PolicyRule[] {
  const out: PolicyRule[] = [];
  const seen = new Set<string>();
  const sorted = [...all].sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  for (const sel of aggregationSelectors(role) ?? []) {
    const req = fromLabelSelectorObject(sel);
    if (!req) continue; // a null selector matches nothing; an empty one matches every ClusterRole
    for (const other of sorted) {
      if (other.metadata.name === role.metadata.name) continue;
      if (!matchesLabels(req, other.metadata.labels ?? {})) continue;
      for (const r of (other['rules'] ?? []) as PolicyRule[]) {
        const k = JSON.stringify(r);
        if (seen.has(k)) continue;
        seen.add(k);
        out.push(r);
      }
    }
  }
  return out;
}

/** Computes every aggregated ClusterRole of `all` until nothing changes (roles aggregate roles). */
export function aggregateAll(all: KObject[]): KObject[] {
  const changed = new Set<KObject>();
  for (let pass = 0; pass < 8; pass++) {
    let any = false;
    for (const role of all) {
      if (!aggregationSelectors(role)) continue;
      const rules = aggregatedRules(role, all);
      if (JSON.stringify(rules) === JSON.stringify(role['rules'] ?? [])) continue;
      role['rules'] = rules;
      changed.add(role);
      any = true;
    }
    if (!any) break;
  }
  return [...changed];
}
