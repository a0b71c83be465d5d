/** Feeds an RbacAuthorizer from watches of the four RBAC kinds in the store (initial list, then changes). */
import type { GenericRegistry } from '../../apiserver/generic-registry.ts';
import type { ResourceTable } from '../../apiserver/resources.ts';
import type { Watcher } from '../../store/types.ts';
import type { RbacAuthorizer } from './authorizer.ts';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

export const RBAC_KINDS = [
  { resource: 'clusterroles', kind: 'ClusterRole' },
  { resource: 'roles', kind: 'Role' },
  { resource: 'clusterrolebindings', kind: 'ClusterRoleBinding' },
  { resource: 'rolebindings', kind: 'RoleBinding' },
] as const;

/** Starts the watches; returns a function that stops them. */
export function watchPolicy(
  registry: GenericRegistry,
  table: ResourceTable,
  rbac: RbacAuthorizer,
): () => void {
  const watchers: Watcher[] = [];
  for (const { resource, kind } of RBAC_KINDS) {
    const served = table.lookup(RBAC_GROUP, 'v1', resource);
    if (!served) throw new Error(`${resource}.${RBAC_GROUP} is not served`);
    watchers.push(registry.watch(served, '', {}, (type, obj) => rbac.apply(kind, type, obj)));
  }
  return () => {
    for (const w of watchers) w.stop();
  };
}
