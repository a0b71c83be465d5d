/**
 * Startup reconciliation of the default RBAC policy (the apiserver's rbac/bootstrap-roles post-start
 * hook): missing default ClusterRoles and ClusterRoleBindings are created; existing ones annotated
 * rbac.authorization.kubernetes.io/autoupdate=true get back the rules, subjects, labels and annotations
 * they lack (extra ones are kept); those annotated "false" are left alone. Aggregated roles get their
 * rules computed here too, so that admin/edit/view are complete before the first request.
 */
import type { KObject } from '../../api/object.ts';
import { deepCopy } from '../../api/object.ts';
import type { GenericRegistry } from '../../apiserver/generic-registry.ts';
import type { ResourceTable, Served } from '../../apiserver/resources.ts';
import type { RequestContext } from '../../registry/types.ts';
import { aggregateAll, aggregationSelectors } from './aggregation.ts';
import { AUTOUPDATE, defaultClusterRoleBindings, defaultClusterRoles } from './bootstrap-policy.ts';
import { RBAC_GROUP } from './policy-source.ts';
import { type PolicyRule, uncoveredRules } from './rules.ts';
import type { Subject } from './authorizer.ts';

function served(table: ResourceTable, resource: string): Served {
  const s = table.lookup(RBAC_GROUP, 'v1', resource);
  if (!s) throw new Error(`${resource}.${RBAC_GROUP} is not served`);
  return s;
}

function mergeMeta(cur: KObject, want: KObject): boolean {
  let changed = false;
  for (const field of ['labels', 'annotations'] as const) {
    const have = { ...(cur.metadata[field] ?? {}) };
    for (const [k, v] of Object.entries(want.metadata[field] ?? {}))
      if (have[k] === undefined) {
        have[k] = v;
        changed = true;
      }
    cur.metadata[field] = have;
  }
  return changed;
}

const sameSubject = (a: Subject, b: Subject): boolean =>
  a.kind === b.kind && a.name === b.name && (a.namespace ?? '') === (b.namespace ?? '');

/** Returns the names of the objects it created or updated. */
export function reconcileDefaultPolicy(
  registry: GenericRegistry,
  table: ResourceTable,
  ctx: RequestContext,
): string[] {
  const touched: string[] = [];
  const roles = served(table, 'clusterroles');
  const bindings = served(table, 'clusterrolebindings');

  const existing = new Map(registry.list(roles, '', {}).items.map((r) => [r.metadata.name ?? '', r]));
  const desired: KObject[] = [];
  const dirty = new Set<string>();
  for (const want of defaultClusterRoles()) {
    const name = want.metadata.name ?? '';
    const cur = existing.get(name);
    if (!cur) {
      desired.push(want);
      dirty.add(name);
      continue;
    }
    const next = deepCopy(cur);
    if (next.metadata.annotations?.[AUTOUPDATE] !== 'false') {
      let changed = mergeMeta(next, want);
      if (aggregationSelectors(want) && !aggregationSelectors(next)) {
        next['aggregationRule'] = want['aggregationRule'];
        changed = true;
      }
      if (!aggregationSelectors(next)) {
        const have = (next['rules'] ?? []) as PolicyRule[];
        const missing = uncoveredRules(have, (want['rules'] ?? []) as PolicyRule[]);
        if (missing.length) {
          next['rules'] = [
            ...have,
            ...((want['rules'] ?? []) as PolicyRule[]).filter((r) => uncoveredRules(have, [r]).length),
          ];
          changed = true;
        }
      }
      if (changed) dirty.add(name);
    }
    desired.push(next);
  }
  // Aggregate over every ClusterRole (user-made ones may carry aggregate-to-* labels too).
  const everyone = [
    ...desired,
    ...[...existing.values()].filter((r) => !desired.some((d) => d.metadata.name === r.metadata.name)),
  ];
  for (const r of aggregateAll(everyone)) dirty.add(r.metadata.name ?? '');
  for (const obj of everyone) {
    const name = obj.metadata.name ?? '';
    if (!dirty.has(name)) continue;
    if (existing.has(name))
      registry.update(roles, '', name, obj, ctx, { fieldManager: 'berth-rbac-bootstrap' });
    else registry.create(roles, '', obj, ctx, { fieldManager: 'berth-rbac-bootstrap' });
    touched.push(`clusterrole/${name}`);
  }

  for (const want of defaultClusterRoleBindings()) {
    const name = want.metadata.name ?? '';
    const cur = registry.tryGet(bindings, '', name);
    if (!cur) {
      registry.create(bindings, '', want, ctx, { fieldManager: 'berth-rbac-bootstrap' });
      touched.push(`clusterrolebinding/${name}`);
      continue;
    }
    if (cur.metadata.annotations?.[AUTOUPDATE] === 'false') continue;
    if (JSON.stringify(cur['roleRef']) !== JSON.stringify(want['roleRef'])) {
      // roleRef is immutable: replace the binding.
      registry.delete(bindings, '', name, {}, ctx);
      registry.create(bindings, '', want, ctx, { fieldManager: 'berth-rbac-bootstrap' });
      touched.push(`clusterrolebinding/${name}`);
      continue;
    }
    const next = deepCopy(cur);
    let changed = mergeMeta(next, want);
    const have = (next['subjects'] ?? []) as Subject[];
    const add = ((want['subjects'] ?? []) as Subject[]).filter((s) => !have.some((h) => sameSubject(h, s)));
    if (add.length) {
      next['subjects'] = [...have, ...add];
      changed = true;
    }
    if (!changed) continue;
    registry.update(bindings, '', name, next, ctx, { fieldManager: 'berth-rbac-bootstrap' });
    touched.push(`clusterrolebinding/${name}`);
  }
  return touched;
}
