/** RBAC validation shared by the four kinds (pkg/apis/rbac/validation). */
import { type FieldError, fieldErr } from '../../api/field-errors.ts';
import { isPlainObject, type KObject } from '../../api/object.ts';

interface Rule {
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export function validateRules(obj: KObject, namespaced: boolean): FieldError[] {
  const rules = obj['rules'];
  if (rules === undefined || rules === null) return [];
  if (!Array.isArray(rules)) return [fieldErr.typeInvalid('rules', rules, 'must be a list')];
  const errs: FieldError[] = [];
  (rules as Rule[]).forEach((r, i) => {
    const p = `rules[${i}]`;
    if (!r.verbs?.length) errs.push(fieldErr.required(`${p}.verbs`, 'verbs must contain at least one value'));
    if (r.nonResourceURLs?.length) {
      if (namespaced)
        errs.push(
          fieldErr.invalid(
            `${p}.nonResourceURLs`,
            r.nonResourceURLs,
            'namespaced rules cannot apply to non-resource URLs',
          ),
        );
      if (r.apiGroups?.length || r.resources?.length || r.resourceNames?.length)
        errs.push(
          fieldErr.invalid(
            `${p}.nonResourceURLs`,
            r.nonResourceURLs,
            'rules cannot apply to both regular resources and non-resource URLs',
          ),
        );
      return;
    }
    if (!r.apiGroups?.length)
      errs.push(fieldErr.required(`${p}.apiGroups`, 'resource rules must supply at least one api group'));
    if (!r.resources?.length)
      errs.push(fieldErr.required(`${p}.resources`, 'resource rules must supply at least one resource'));
  });
  return errs;
}

interface Subject {
  kind?: string;
  apiGroup?: string;
  name?: string;
  namespace?: string;
}

export function defaultSubjects(obj: KObject): void {
  const subjects = obj['subjects'];
  if (!Array.isArray(subjects)) return;
  for (const s of subjects as Subject[]) {
    if (!isPlainObject(s)) continue;
    if (s.apiGroup === undefined && (s.kind === 'User' || s.kind === 'Group'))
      s.apiGroup = 'rbac.authorization.k8s.io';
    if (s.apiGroup === undefined && s.kind === 'ServiceAccount') s.apiGroup = '';
  }
}

export function validateBinding(obj: KObject, clusterScoped: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const ref = (obj['roleRef'] ?? {}) as { apiGroup?: string; kind?: string; name?: string };
  if (ref.apiGroup !== 'rbac.authorization.k8s.io')
    errs.push(fieldErr.notSupported('roleRef.apiGroup', ref.apiGroup ?? '', ['rbac.authorization.k8s.io']));
  const kinds = clusterScoped ? ['ClusterRole'] : ['Role', 'ClusterRole'];
  if (!kinds.includes(ref.kind ?? ''))
    errs.push(fieldErr.notSupported('roleRef.kind', ref.kind ?? '', kinds));
  if (!ref.name) errs.push(fieldErr.required('roleRef.name', ''));
  const subjects = (obj['subjects'] ?? []) as Subject[];
  subjects.forEach((s, i) => {
    const p = `subjects[${i}]`;
    if (!s.name) errs.push(fieldErr.required(`${p}.name`, ''));
    switch (s.kind) {
      case 'ServiceAccount':
        if (s.apiGroup) errs.push(fieldErr.notSupported(`${p}.apiGroup`, s.apiGroup, ['']));
        if (clusterScoped && !s.namespace) errs.push(fieldErr.required(`${p}.namespace`, ''));
        break;
      case 'User':
      case 'Group':
        if (s.apiGroup !== 'rbac.authorization.k8s.io')
          errs.push(fieldErr.notSupported(`${p}.apiGroup`, s.apiGroup ?? '', ['rbac.authorization.k8s.io']));
        break;
      default:
        errs.push(fieldErr.notSupported(`${p}.kind`, s.kind ?? '', ['ServiceAccount', 'User', 'Group']));
    }
  });
  return errs;
}

export function validateRoleRefUnchanged(obj: KObject, old: KObject): FieldError[] {
  return JSON.stringify(obj['roleRef']) === JSON.stringify(old['roleRef'])
    ? []
    : [fieldErr.invalid('roleRef', obj['roleRef'], 'cannot change roleRef')];
}

/** The Users / Groups / ServiceAccounts cells of the binding printers. */
export function subjectCells(obj: KObject): [string, string, string] {
  const subjects = (obj['subjects'] ?? []) as Subject[];
  const users = subjects.filter((s) => s.kind === 'User').map((s) => s.name);
  const groups = subjects.filter((s) => s.kind === 'Group').map((s) => s.name);
  const sas = subjects
    .filter((s) => s.kind === 'ServiceAccount')
    .map((s) => `${s.namespace ?? ''}/${s.name}`);
  return [users.join(', '), groups.join(', '), sas.join(', ')];
}
