/** apps/v1 DaemonSet. */
import type { KObject } from '../../api/object.ts';
import { type FieldError, fieldErr, immutable } from '../../api/field-errors.ts';
import type { Strategy } from '../types.ts';
import { defaultPodTemplateSpec } from '../core/pod-spec.ts';
import { age, formatMapSelector } from '../printers.ts';
import {
  ageColumn,
  containersColumn,
  imagesColumn,
  info,
  nameColumn,
  num,
  resetStatus,
  selectorColumn,
  spec,
  status,
  templateOf,
  validateWorkloadTemplate,
  wideCells,
} from '../workload.ts';
import { isZeroIntOrPercent, validateIntOrPercent, validateNonNegative } from './common.ts';
import { canonicalJSON } from '../core/pods.ts';

/**
 * apps/v1 keeps the internal spec.templateGeneration in this annotation (upstream's v1 conversion writes
 * it on every read, parses it on every write).
 */
export const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';

/** The template generation an annotation value stands for (0 when absent or not a whole number). */
function parseTemplateGeneration(v: string | undefined): number {
  const n = v === undefined || !/^-?\d+$/.test(v.trim()) ? 0 : Number(v.trim());
  return Number.isSafeInteger(n) ? n : 0;
}

function setTemplateGeneration(obj: KObject, generation: number): void {
  obj.metadata.annotations = {
    ...obj.metadata.annotations,
    [TEMPLATE_GENERATION_ANNOTATION]: String(generation),
  };
}

export const daemonSetStrategy: Strategy = {
  info: info('apps', 'v1', 'daemonsets', 'daemonset', 'DaemonSet', true, {
    shortNames: ['ds'],
    categories: ['all'],
  }),
  hasStatus: true,
  defaults(obj) {
    const s = (obj['spec'] ??= {}) as Record<string, unknown>;
    const us = (s['updateStrategy'] ??= {}) as {
      type?: string;
      rollingUpdate?: { maxUnavailable?: unknown; maxSurge?: unknown };
    };
    us.type ??= 'RollingUpdate';
    if (us.type === 'RollingUpdate') {
      us.rollingUpdate ??= {};
      us.rollingUpdate.maxUnavailable ??= 1;
      us.rollingUpdate.maxSurge ??= 0;
    }
    s['revisionHistoryLimit'] ??= 10;
    defaultPodTemplateSpec(s['template'] as never);
  },
  /** PrepareForCreate: empty status; templateGeneration 1 unless the client gave one ≥ 1. */
  prepareForCreate(obj) {
    resetStatus(obj);
    const given = parseTemplateGeneration(obj.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION]);
    setTemplateGeneration(obj, given < 1 ? 1 : given);
  },
  /**
   * PrepareForUpdate: clients cannot set templateGeneration; it goes up by one when the pod template
   * changed (metadata.generation goes up on any spec change, in the generic layer). Objects stored
   * before the annotation was kept count from their metadata.generation, as the controller does.
   */
  prepareForUpdate(obj, old) {
    const stored = old.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION];
    const before = stored === undefined ? (old.metadata.generation ?? 1) : parseTemplateGeneration(stored);
    const changed = canonicalJSON(spec(obj)['template']) !== canonicalJSON(spec(old)['template']);
    setTemplateGeneration(obj, changed ? before + 1 : before);
  },
  validate(obj) {
    const s = spec(obj);
    const errs: FieldError[] = [
      ...validateWorkloadTemplate(obj),
      ...validateNonNegative(s['minReadySeconds'], 'spec.minReadySeconds'),
    ];
    const us = (s['updateStrategy'] ?? {}) as {
      type?: string;
      rollingUpdate?: { maxUnavailable?: unknown; maxSurge?: unknown };
    };
    if (us.type !== 'RollingUpdate' && us.type !== 'OnDelete')
      errs.push(
        fieldErr.notSupported('spec.updateStrategy.type', us.type ?? '', ['OnDelete', 'RollingUpdate']),
      );
    if (us.rollingUpdate) {
      errs.push(
        ...validateIntOrPercent(
          us.rollingUpdate.maxUnavailable,
          'spec.updateStrategy.rollingUpdate.maxUnavailable',
        ),
      );
      errs.push(
        ...validateIntOrPercent(us.rollingUpdate.maxSurge, 'spec.updateStrategy.rollingUpdate.maxSurge'),
      );
      if (
        isZeroIntOrPercent(us.rollingUpdate.maxUnavailable) &&
        isZeroIntOrPercent(us.rollingUpdate.maxSurge)
      )
        errs.push(
          fieldErr.invalid(
            'spec.updateStrategy.rollingUpdate.maxUnavailable',
            us.rollingUpdate.maxUnavailable,
            'may not be 0 when `maxSurge` is 0',
          ),
        );
    }
    return errs;
  },
  validateUpdate(obj, old) {
    return immutable('spec.selector', spec(old)['selector'], spec(obj)['selector']);
  },
  columns: [
    nameColumn,
    {
      name: 'Desired',
      type: 'integer',
      description: 'The total number of nodes that should be running the daemon pod.',
    },
    {
      name: 'Current',
      type: 'integer',
      description:
        'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.',
    },
    {
      name: 'Ready',
      type: 'integer',
      description:
        'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.',
    },
    {
      name: 'Up-to-date',
      type: 'integer',
      description: 'The total number of nodes that are running updated daemon pod',
    },
    {
      name: 'Available',
      type: 'integer',
      description:
        'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.',
    },
    {
      name: 'Node Selector',
      type: 'string',
      description: 'NodeSelector is a selector which must be true for the pod to fit on a node.',
    },
    ageColumn,
    containersColumn,
    imagesColumn,
    selectorColumn,
  ],
  row(obj: KObject, now) {
    const st = status(obj);
    return [
      obj.metadata.name ?? '',
      num(st['desiredNumberScheduled']),
      num(st['currentNumberScheduled']),
      num(st['numberReady']),
      num(st['updatedNumberScheduled']),
      num(st['numberAvailable']),
      formatMapSelector(templateOf(obj)?.spec?.nodeSelector as Record<string, string> | undefined),
      age(obj.metadata.creationTimestamp, now),
      ...wideCells(obj),
    ];
  },
};
