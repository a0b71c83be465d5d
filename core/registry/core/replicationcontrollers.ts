/** core/v1 ReplicationController (SetDefaults_ReplicationController, ValidateReplicationController, printReplicationController). */
import type { ReplicationController, ReplicationControllerSpec } from 'kubernetes-types/core/v1';
import type { KObject } from '../../api/object.ts';
import { type FieldError, fieldErr } from '../../api/field-errors.ts';
import { ALL_VERBS, type TableColumn } from '../types.ts';
import { age, ageColumn, formatMapSelector, nameColumn } from '../printers.ts';
import { validateLabels } from '../validation/meta.ts';
import { type CoreStrategy, validateNonnegative } from './common.ts';
import {
  defaultPodTemplateSpec,
  podSpecContainersSummary,
  validatePodTemplateSpec,
  validateTemplateRestartAlways,
} from './pod-spec.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type MRC = Mutable<ReplicationController> & { spec?: Mutable<ReplicationControllerSpec> };
const asRC = (o: KObject): MRC => o as unknown as MRC;

export function validateReplicationController(obj: KObject): FieldError[] {
  const spec = asRC(obj).spec;
  const errs: FieldError[] = [];
  if (!spec) return [fieldErr.required('spec', '')];
  errs.push(
    ...validateNonnegative(spec.replicas, 'spec.replicas'),
    ...validateNonnegative(spec.minReadySeconds, 'spec.minReadySeconds'),
  );
  const sel = spec.selector ?? {};
  if (Object.keys(sel).length === 0) errs.push(fieldErr.required('spec.selector', ''));
  else errs.push(...validateLabels(sel, 'spec.selector'));
  const tpl = spec.template;
  if (!tpl) {
    errs.push(fieldErr.required('spec.template', ''));
  } else {
    const labels = tpl.metadata?.labels ?? {};
    if (Object.keys(sel).length && !Object.entries(sel).every(([k, v]) => labels[k] === v))
      errs.push(
        fieldErr.invalid(
          'spec.template.metadata.labels',
          labels,
          '`selector` does not match template `labels`',
        ),
      );
    errs.push(
      ...validatePodTemplateSpec(tpl, 'spec.template'),
      ...validateTemplateRestartAlways(tpl, 'spec.template'),
    );
    if (tpl.spec?.activeDeadlineSeconds !== undefined && tpl.spec.activeDeadlineSeconds !== null)
      errs.push(
        fieldErr.forbidden(
          'spec.template.spec.activeDeadlineSeconds',
          'activeDeadlineSeconds in ReplicationController is not Supported',
        ),
      );
  }
  return errs;
}

const columns: readonly TableColumn[] = [
  nameColumn,
  {
    name: 'Desired',
    type: 'integer',
    description:
      'Replicas is the number of desired replicas. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller',
  },
  {
    name: 'Current',
    type: 'integer',
    description:
      'Replicas is the most recently observed number of replicas. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller',
  },
  {
    name: 'Ready',
    type: 'integer',
    description: 'The number of ready replicas for this replication controller.',
  },
  ageColumn,
  {
    name: 'Containers',
    type: 'string',
    priority: 1,
    description: 'Names of each container in the template.',
  },
  {
    name: 'Images',
    type: 'string',
    priority: 1,
    description: 'Images referenced by each container in the template.',
  },
  {
    name: 'Selector',
    type: 'string',
    priority: 1,
    description:
      'Selector is a label query over pods that should match the Replicas count. If Selector is empty, it is defaulted to the labels present on the Pod template. Label keys and values that must match in order to be controlled by this replication controller, if empty defaulted to labels on Pod template. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors',
  },
];

export const replicationControllerStrategy: CoreStrategy = {
  info: {
    group: '',
    version: 'v1',
    resource: 'replicationcontrollers',
    singular: 'replicationcontroller',
    kind: 'ReplicationController',
    namespaced: true,
    verbs: ALL_VERBS,
    shortNames: ['rc'],
    categories: ['all'],
  },
  hasStatus: true,
  scale: {
    specReplicas: (o) => asRC(o).spec?.replicas ?? 0,
    setSpecReplicas: (o, n) => {
      const rc = asRC(o);
      rc.spec = { ...(rc.spec ?? {}), replicas: n };
    },
    statusReplicas: (o) => asRC(o).status?.replicas ?? 0,
    selector: (o) => {
      const s = asRC(o).spec?.selector ?? {};
      return Object.entries(s)
        .map(([k, v]) => `${k}=${v}`)
        .sort()
        .join(',');
    },
  },
  defaults(obj) {
    const rc = asRC(obj);
    const spec = (rc.spec ??= {});
    const labels = spec.template?.metadata?.labels;
    if (labels) {
      if (!spec.selector || Object.keys(spec.selector).length === 0) spec.selector = { ...labels };
      if (!obj.metadata.labels || Object.keys(obj.metadata.labels).length === 0)
        obj.metadata.labels = { ...labels };
    }
    if (spec.replicas === undefined || spec.replicas === null) spec.replicas = 1;
    if (spec.template) defaultPodTemplateSpec(spec.template);
  },
  prepareForCreate(obj) {
    asRC(obj).status = { replicas: 0 };
    obj.metadata.generation = 1;
  },
  validate: validateReplicationController,
  validateStatusUpdate(obj) {
    const st = asRC(obj).status ?? { replicas: 0 };
    const errs: FieldError[] = [];
    for (const k of [
      'replicas',
      'fullyLabeledReplicas',
      'readyReplicas',
      'availableReplicas',
      'observedGeneration',
    ] as const)
      errs.push(...validateNonnegative(st[k], `status.${k}`));
    if ((st.readyReplicas ?? 0) > (st.replicas ?? 0))
      errs.push(
        fieldErr.invalid('status.readyReplicas', st.readyReplicas, 'cannot be greater than status.replicas'),
      );
    if ((st.availableReplicas ?? 0) > (st.readyReplicas ?? 0))
      errs.push(
        fieldErr.invalid(
          'status.availableReplicas',
          st.availableReplicas,
          'cannot be greater than readyReplicas',
        ),
      );
    return errs;
  },
  columns,
  row(obj, now) {
    const rc = asRC(obj);
    const { names, images } = podSpecContainersSummary(rc.spec?.template?.spec);
    return [
      obj.metadata.name ?? '',
      rc.spec?.replicas ?? 0,
      rc.status?.replicas ?? 0,
      rc.status?.readyReplicas ?? 0,
      age(obj.metadata.creationTimestamp, now),
      names,
      images,
      formatMapSelector(rc.spec?.selector),
    ];
  },
  fieldSelectors(obj) {
    return { 'status.replicas': String(asRC(obj).status?.replicas ?? 0) };
  },
};
