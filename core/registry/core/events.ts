/** core/v1 Event (pkg/registry/core/event/strategy.go, ValidateEventCreate for v1, printEvent). */
import type { Event } from 'kubernetes-types/core/v1';
import type { KObject } from '../../api/object.ts';
import { type FieldError, fieldErr } from '../../api/field-errors.ts';
import { ALL_VERBS, type TableColumn } from '../types.ts';
import { age, ageColumn, nameColumn } from '../printers.ts';
import { isDNS1123Subdomain, isQualifiedName } from '../validation/names.ts';
import type { CoreStrategy } from './common.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
const asEvent = (o: KObject): Mutable<Event> => o as unknown as Mutable<Event>;

export const REPORTING_INSTANCE_LIMIT = 128;
export const ACTION_LIMIT = 128;
export const REASON_LIMIT = 128;
export const NOTE_LIMIT = 1024;

/** legacyValidateEvent (all that ValidateEventCreate runs for core/v1). */
export function validateEvent(obj: KObject): FieldError[] {
  const ev = asEvent(obj);
  const errs: FieldError[] = [];
  const ns = obj.metadata.namespace ?? '';
  const invNs = ev.involvedObject?.namespace ?? '';
  if (!ev.eventTime) {
    if (!invNs) {
      if (ns !== '' && ns !== 'default')
        errs.push(fieldErr.invalid('involvedObject.namespace', invNs, 'does not match event.namespace'));
    } else if (ns !== invNs) {
      errs.push(fieldErr.invalid('involvedObject.namespace', invNs, 'does not match event.namespace'));
    }
  } else {
    if (!invNs && ns !== 'default' && ns !== 'kube-system')
      errs.push(fieldErr.invalid('involvedObject.namespace', invNs, 'does not match event.namespace'));
    const rc = ev.reportingComponent ?? '';
    if (!rc) errs.push(fieldErr.required('reportingComponent', ''));
    for (const m of isQualifiedName(rc)) errs.push(fieldErr.invalid('reportingComponent', rc, m));
    const ri = ev.reportingInstance ?? '';
    if (!ri) errs.push(fieldErr.required('reportingInstance', ''));
    if (ri.length > REPORTING_INSTANCE_LIMIT)
      errs.push(
        fieldErr.invalid('reportingInstance', '', `can have at most ${REPORTING_INSTANCE_LIMIT} characters`),
      );
    const action = ev.action ?? '';
    if (!action) errs.push(fieldErr.required('action', ''));
    if (action.length > ACTION_LIMIT)
      errs.push(fieldErr.invalid('action', '', `can have at most ${ACTION_LIMIT} characters`));
    const reason = ev.reason ?? '';
    if (!reason) errs.push(fieldErr.required('reason', ''));
    if (reason.length > REASON_LIMIT)
      errs.push(fieldErr.invalid('reason', '', `can have at most ${REASON_LIMIT} characters`));
    if ((ev.message ?? '').length > NOTE_LIMIT)
      errs.push(fieldErr.invalid('message', '', `can have at most ${NOTE_LIMIT} characters`));
  }
  for (const m of isDNS1123Subdomain(ns)) errs.push(fieldErr.invalid('namespace', ns, m));
  return errs;
}

const columns: readonly TableColumn[] = [
  {
    name: 'Last Seen',
    type: 'string',
    description: 'The time at which the most recent occurrence of this event was recorded.',
  },
  {
    name: 'Type',
    type: 'string',
    description: 'Type of this event (Normal, Warning), new types could be added in the future',
  },
  {
    name: 'Reason',
    type: 'string',
    description:
      "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
  },
  { name: 'Object', type: 'string', description: 'The object that this event is about.' },
  {
    name: 'Subobject',
    type: 'string',
    priority: 1,
    description:
      'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: "spec.containers{name}" (where "name" refers to the name of the container that triggered the event) or if no container name is specified "spec.containers[2]" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.',
  },
  {
    name: 'Source',
    type: 'string',
    priority: 1,
    description: 'The component reporting this event. Should be a short machine understandable string.',
  },
  {
    name: 'Message',
    type: 'string',
    description: 'A human-readable description of the status of this operation.',
  },
  {
    name: 'First Seen',
    type: 'string',
    priority: 1,
    description: 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)',
  },
  { name: 'Count', type: 'string', priority: 1, description: 'The number of times this event has occurred.' },
  { ...nameColumn, priority: 1 },
];
void ageColumn;

function formatEventSource(component: string, instance: string): string {
  if (!component && !instance) return '';
  if (!instance) return component;
  return `${component}, ${instance}`;
}

export const eventStrategy: CoreStrategy = {
  info: {
    group: '',
    version: 'v1',
    resource: 'events',
    singular: 'event',
    kind: 'Event',
    namespaced: true,
    verbs: ALL_VERBS,
    shortNames: ['ev'],
  },
  allowCreateOnUpdate: true,
  validate: validateEvent,
  columns,
  row(obj, now) {
    const ev = asEvent(obj);
    let first = age(ev.firstTimestamp, now);
    if (!ev.firstTimestamp) first = age(ev.eventTime, now);
    let last = ev.lastTimestamp ? age(ev.lastTimestamp, now) : first;
    let count = ev.count ?? 0;
    if (ev.series) {
      last = age(ev.series.lastObservedTime, now);
      count = ev.series.count ?? 0;
    } else if (count === 0) count = 1;
    const inv = ev.involvedObject ?? {};
    const target = inv.name
      ? `${(inv.kind ?? '').toLowerCase()}/${inv.name}`
      : (inv.kind ?? '').toLowerCase();
    return [
      last,
      ev.type ?? '',
      ev.reason ?? '',
      target,
      inv.fieldPath ?? '',
      formatEventSource(
        ev.source?.component || ev.reportingComponent || '',
        ev.source?.host || ev.reportingInstance || '',
      ),
      (ev.message ?? '').trim(),
      first,
      count,
      obj.metadata.name ?? '',
    ];
  },
  fieldSelectors(obj) {
    const ev = asEvent(obj);
    const inv = ev.involvedObject ?? {};
    return {
      'involvedObject.kind': inv.kind ?? '',
      'involvedObject.namespace': inv.namespace ?? '',
      'involvedObject.name': inv.name ?? '',
      'involvedObject.uid': inv.uid ?? '',
      'involvedObject.apiVersion': inv.apiVersion ?? '',
      'involvedObject.resourceVersion': inv.resourceVersion ?? '',
      'involvedObject.fieldPath': inv.fieldPath ?? '',
      reason: ev.reason ?? '',
      reportingComponent: ev.reportingComponent ?? '',
      source: ev.source?.component ?? '',
      type: ev.type ?? '',
    };
  },
};
