/** rbac.authorization.k8s.io/v1 Role, ClusterRole, RoleBinding and ClusterRoleBinding. */
import type { KObject } from '../../api/object.ts';
import type { Strategy, TableColumn } from '../types.ts';
import { age, defaultColumns, defaultRow } from '../printers.ts';
import { ageColumn, info, nameColumn } from '../workload.ts';
import {
  defaultSubjects,
  subjectCells,
  validateBinding,
  validateRoleRefUnchanged,
  validateRules,
} from './rules.ts';

const G = 'rbac.authorization.k8s.io';

const bindingColumns: TableColumn[] = [
  nameColumn,
  {
    name: 'Role',
    type: 'string',
    description:
      'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.',
  },
  ageColumn,
  { name: 'Users', type: 'string', priority: 1, description: 'Users in the binding' },
  { name: 'Groups', type: 'string', priority: 1, description: 'Groups in the binding' },
  { name: 'ServiceAccounts', type: 'string', priority: 1, description: 'ServiceAccounts in the binding' },
];

function bindingRow(obj: KObject, now: Date): (string | number)[] {
  const ref = (obj['roleRef'] ?? {}) as { kind?: string; name?: string };
  return [
    obj.metadata.name ?? '',
    `${ref.kind ?? ''}/${ref.name ?? ''}`,
    age(obj.metadata.creationTimestamp, now),
    ...subjectCells(obj),
  ];
}

export const roleStrategy: Strategy = {
  info: info(G, 'v1', 'roles', 'role', 'Role', true),
  nameValidation: 'path-segment',
  allowCreateOnUpdate: true,
  validate: (obj) => validateRules(obj, true),
  columns: defaultColumns,
  row: defaultRow,
};

export const clusterRoleStrategy: Strategy = {
  info: info(G, 'v1', 'clusterroles', 'clusterrole', 'ClusterRole', false),
  nameValidation: 'path-segment',
  allowCreateOnUpdate: true,
  validate: (obj) => validateRules(obj, false),
  columns: defaultColumns,
  row: defaultRow,
};

export const roleBindingStrategy: Strategy = {
  info: info(G, 'v1', 'rolebindings', 'rolebinding', 'RoleBinding', true),
  nameValidation: 'path-segment',
  allowCreateOnUpdate: true,
  defaults: defaultSubjects,
  validate: (obj) => validateBinding(obj, false),
  validateUpdate: validateRoleRefUnchanged,
  columns: bindingColumns,
  row: bindingRow,
};

export const clusterRoleBindingStrategy: Strategy = {
  info: info(G, 'v1', 'clusterrolebindings', 'clusterrolebinding', 'ClusterRoleBinding', false),
  nameValidation: 'path-segment',
  allowCreateOnUpdate: true,
  defaults: defaultSubjects,
  validate: (obj) => validateBinding(obj, true),
  validateUpdate: validateRoleRefUnchanged,
  columns: bindingColumns,
  row: bindingRow,
};

export const rbacStrategies: readonly Strategy[] = [
  clusterRoleBindingStrategy,
  clusterRoleStrategy,
  roleBindingStrategy,
  roleStrategy,
];
