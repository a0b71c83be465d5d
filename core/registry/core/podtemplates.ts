/** core/v1 PodTemplate (ValidatePodTemplate, printPodTemplate). */
import type { PodTemplate } from 'kubernetes-types/core/v1';
import type { KObject } from '../../api/object.ts';
import { fieldErr } from '../../api/field-errors.ts';
import { ALL_VERBS, type TableColumn } from '../types.ts';
import { formatMapSelector, nameColumn } from '../printers.ts';
import type { CoreStrategy } from './common.ts';
import { defaultPodTemplateSpec, podSpecContainersSummary, validatePodTemplateSpec } from './pod-spec.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
const asPT = (o: KObject): Mutable<PodTemplate> => o as unknown as Mutable<PodTemplate>;

const columns: readonly TableColumn[] = [
  nameColumn,
  { name: 'Containers', type: 'string', description: 'Names of each container in the template.' },
  { name: 'Images', type: 'string', description: 'Images referenced by each container in the template.' },
  { name: 'Pod Labels', type: 'string', description: 'The labels for the pod template.' },
];

export const podTemplateStrategy: CoreStrategy = {
  info: {
    group: '',
    version: 'v1',
    resource: 'podtemplates',
    singular: 'podtemplate',
    kind: 'PodTemplate',
    namespaced: true,
    verbs: ALL_VERBS,
  },
  defaults(obj) {
    const pt = asPT(obj);
    if (pt.template) defaultPodTemplateSpec(pt.template);
  },
  validate(obj) {
    const pt = asPT(obj);
    if (!pt.template) return [fieldErr.required('template', '')];
    return validatePodTemplateSpec(pt.template, 'template');
  },
  columns,
  row(obj) {
    const t = asPT(obj).template;
    const { names, images } = podSpecContainersSummary(t?.spec);
    return [obj.metadata.name ?? '', names, images, formatMapSelector(t?.metadata?.labels)];
  },
};
