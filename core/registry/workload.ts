/** Shared pieces of the workload strategies (apps/*, batch/*): tables, status handling, scale access. */
import type { KObject } from '../api/object.ts';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1';
import type { ResourceInfo, ScaleAccess, TableColumn, Verb } from './types.ts';
import { ALL_VERBS } from './types.ts';
import {
  podSpecContainersSummary,
  validatePodTemplateSpec,
  validateTemplateRestartAlways,
} from './core/pod-spec.ts';
import type { FieldError } from '../api/field-errors.ts';
import { validateLabelSelector, validateSelectorMatchesTemplate } from './validation/selectors.ts';
import { formatLabelSelector, nameColumn, ageColumn } from './printers.ts';

export const containersColumn: TableColumn = {
  name: 'Containers',
  type: 'string',
  priority: 1,
  description: 'Names of each container in the template.',
};
export const imagesColumn: TableColumn = {
  name: 'Images',
  type: 'string',
  priority: 1,
  description: 'Images referenced by each container in the template.',
};
export const selectorColumn: TableColumn = {
  name: 'Selector',
  type: 'string',
  priority: 1,
  description:
    'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.',
};
export { nameColumn, ageColumn };

type Obj = Record<string, unknown>;
export const spec = (o: KObject): Obj => (o['spec'] ?? {}) as Obj;
export const status = (o: KObject): Obj => (o['status'] ?? {}) as Obj;
export const num = (v: unknown): number => (typeof v === 'number' ? v : 0);

export function templateOf(o: KObject): PodTemplateSpec | undefined {
  return spec(o)['template'] as PodTemplateSpec | undefined;
}

/** Containers, Images (and Selector) cells of the wide columns. */
export function wideCells(o: KObject, withSelector = true): string[] {
  const { names, images } = podSpecContainersSummary(templateOf(o)?.spec);
  return withSelector ? [names, images, formatLabelSelector(spec(o)['selector'])] : [names, images];
}

export function info(
  group: string,
  version: string,
  resource: string,
  singular: string,
  kind: string,
  namespaced: boolean,
  extra: Partial<ResourceInfo> = {},
): ResourceInfo {
  return { group, version, resource, singular, kind, namespaced, verbs: ALL_VERBS as Verb[], ...extra };
}

/** Status starts empty on create, as the workload strategies' PrepareForCreate do. */
export function resetStatus(o: KObject): void {
  o['status'] = {};
}

export const replicasScale: ScaleAccess = {
  specReplicas: (o) => num(spec(o)['replicas']),
  setSpecReplicas: (o, n) => {
    o['spec'] = { ...spec(o), replicas: n };
  },
  statusReplicas: (o) => num(status(o)['replicas']),
  selector: (o) => {
    const s = formatLabelSelector(spec(o)['selector']);
    return s === '<none>' ? '' : s;
  },
};

/**
 * The rules every controller of long-running pods shares: a valid selector that selects the template's
 * labels, a valid pod template, and restartPolicy Always.
 */
export function validateWorkloadTemplate(o: KObject): FieldError[] {
  const s = spec(o);
  const tpl = s['template'] as PodTemplateSpec | undefined;
  return [
    ...validateLabelSelector(s['selector'], 'spec.selector'),
    ...validateSelectorMatchesTemplate(
      s['selector'],
      tpl?.metadata?.labels as Record<string, string> | undefined,
      'spec',
    ),
    ...validatePodTemplateSpec(tpl, 'spec.template'),
    ...validateTemplateRestartAlways(tpl, 'spec.template'),
  ];
}
