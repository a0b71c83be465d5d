/**
 * The kinds the RBAC page lists (ServiceAccounts, Roles, ClusterRoles, RoleBindings,
 * ClusterRoleBindings) with their table columns, and how a role's rules and a binding's roleRef and
 * subjects read.
 */
import type {
  KubeObject,
  RbacObjectRef,
  RbacRule,
  RbacSubject,
  ResourceRef,
} from '../../electron/contract.ts';
import { age, type TableKind } from './kinds.ts';

export type RbacKindName =
  'serviceaccounts' | 'roles' | 'clusterroles' | 'rolebindings' | 'clusterrolebindings';

/** The kind of an object the RBAC page opens in its detail panel. */
export type RbacObjectKind = RbacObjectRef['kind'] | 'ServiceAccount';

/** An object the RBAC page can open (a role, a binding or a service account). */
export interface RbacTarget {
  kind: RbacObjectKind;
  name: string;
  namespace?: string;
}

export interface RbacKind extends TableKind {
  name: RbacKindName;
  kind: RbacObjectKind;
  ref: ResourceRef;
  namespaced: boolean;
}

export interface BindingSubject {
  kind: string;
  name: string;
  namespace?: string;
  apiGroup?: string;
}

export const rulesOf = (o: KubeObject): RbacRule[] => (o['rules'] ?? []) as unknown as RbacRule[];
export const subjectsOf = (o: KubeObject): BindingSubject[] =>
  (o['subjects'] ?? []) as unknown as BindingSubject[];

/** The role a binding refers to (a Role lives in the binding's namespace). */
export function roleRefOf(o: KubeObject): RbacObjectRef | undefined {
  const r = o['roleRef'] as { kind?: string; name?: string } | undefined;
  if (!r?.name || (r.kind !== 'Role' && r.kind !== 'ClusterRole')) return undefined;
  return r.kind === 'Role'
    ? { kind: 'Role', name: r.name, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}) }
    : { kind: 'ClusterRole', name: r.name };
}

/** `ClusterRole view`, `RoleBinding default/alice-view`. */
export function refText(r: RbacTarget): string {
  return `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
}

/** A binding's subject as a "view as" subject (ServiceAccounts default to the binding's namespace). */
export function bindingSubject(s: BindingSubject, bindingNamespace?: string): RbacSubject | undefined {
  if (!s.name) return undefined;
  if (s.kind === 'User') return { kind: 'User', name: s.name };
  if (s.kind === 'Group') return { kind: 'Group', name: s.name };
  if (s.kind === 'ServiceAccount') {
    const namespace = s.namespace || bindingNamespace;
    return namespace ? { kind: 'ServiceAccount', namespace, name: s.name } : undefined;
  }
  return undefined;
}

export function subjectListText(o: KubeObject): string {
  return subjectsOf(o)
    .map((s) => `${s.kind} ${s.kind === 'ServiceAccount' && s.namespace ? `${s.namespace}/` : ''}${s.name}`)
    .join(', ');
}

const join = (l: readonly string[] | undefined, empty = ''): string => (l?.length ? l.join(', ') : empty);

/**
 * One rule as table cells: API groups (`""` reads as `core`), what it applies to (resources, limited
 * to some object names when it names them; or non-resource URLs), verbs.
 */
export function ruleCells(r: RbacRule): { apiGroups: string; applies: string; verbs: string } {
  const names = r.resourceNames?.length ? ` (only ${join(r.resourceNames)})` : '';
  return {
    apiGroups: join(r.apiGroups?.map((g) => (g === '' ? 'core' : g))),
    applies: r.nonResourceURLs?.length ? join(r.nonResourceURLs) : `${join(r.resources)}${names}`,
    verbs: join(r.verbs),
  };
}

const rbacRef = (resource: string): ResourceRef => ({
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  resource,
});

const nameCol = { title: 'Name', cell: (o: KubeObject) => o.metadata.name ?? '' };
const nsCol = { title: 'Namespace', cell: (o: KubeObject) => o.metadata.namespace ?? '' };
const ageCol = { title: 'Age', cell: (o: KubeObject, now: number) => age(o.metadata.creationTimestamp, now) };
const roleCols = (namespaced: boolean): TableKind['columns'] => [
  nameCol,
  ...(namespaced ? [nsCol] : []),
  { title: 'Rules', cell: (o) => String(rulesOf(o).length) },
  ageCol,
];
const bindingCols = (namespaced: boolean): TableKind['columns'] => [
  nameCol,
  ...(namespaced ? [nsCol] : []),
  {
    title: 'Role',
    cell: (o) => {
      const r = roleRefOf(o);
      return r ? `${r.kind}/${r.name}` : '';
    },
  },
  { title: 'Subjects', cell: subjectListText },
  ageCol,
];

export const RBAC_KINDS: Record<RbacKindName, RbacKind> = {
  serviceaccounts: {
    name: 'serviceaccounts',
    title: 'Service accounts',
    kind: 'ServiceAccount',
    ref: { group: '', version: 'v1', resource: 'serviceaccounts' },
    namespaced: true,
    columns: [nameCol, nsCol, ageCol],
  },
  roles: {
    name: 'roles',
    title: 'Roles',
    kind: 'Role',
    ref: rbacRef('roles'),
    namespaced: true,
    columns: roleCols(true),
  },
  clusterroles: {
    name: 'clusterroles',
    title: 'ClusterRoles',
    kind: 'ClusterRole',
    ref: rbacRef('clusterroles'),
    namespaced: false,
    columns: roleCols(false),
  },
  rolebindings: {
    name: 'rolebindings',
    title: 'RoleBindings',
    kind: 'RoleBinding',
    ref: rbacRef('rolebindings'),
    namespaced: true,
    columns: bindingCols(true),
  },
  clusterrolebindings: {
    name: 'clusterrolebindings',
    title: 'ClusterRoleBindings',
    kind: 'ClusterRoleBinding',
    ref: rbacRef('clusterrolebindings'),
    namespaced: false,
    columns: bindingCols(false),
  },
};

export function rbacKindOf(kind: RbacObjectKind): RbacKind {
  const k = Object.values(RBAC_KINDS).find((x) => x.kind === kind);
  if (!k) throw new Error(`not an RBAC kind: ${kind}`);
  return k;
}

/** The target of a listed object (its key is `namespace/name`, or `name` when cluster-scoped). */
export function targetOf(kind: RbacKind, o: KubeObject): RbacTarget {
  return {
    kind: kind.kind,
    name: o.metadata.name ?? '',
    ...(kind.namespaced && o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
  };
}
