/**
 * events.k8s.io/v1 Event, served from the core/v1 events storage with Kubernetes' field mapping
 * (note↔message, regarding↔involvedObject, reportingController↔reportingComponent, deprecated* fields).
 */
import { deepCopy, type KObject } from '../../api/object.ts';
import { fieldErr } from '../../api/field-errors.ts';
import type { Strategy } from '../types.ts';
import { age } from '../printers.ts';
import { info } from '../workload.ts';

type Obj = Record<string, unknown>;

/** events.k8s.io/v1 field ↔ core/v1 field (the rest of the objects is the same). */
const FIELDS: readonly [string, string][] = [
  ['note', 'message'],
  ['regarding', 'involvedObject'],
  ['related', 'related'],
  ['reason', 'reason'],
  ['type', 'type'],
  ['action', 'action'],
  ['eventTime', 'eventTime'],
  ['series', 'series'],
  ['reportingController', 'reportingComponent'],
  ['reportingInstance', 'reportingInstance'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
];

function convert(o: KObject, apiVersion: string, toCore: boolean): Obj {
  const src = o as Obj;
  const out: Obj = { apiVersion, kind: 'Event', metadata: deepCopy(o.metadata) };
  for (const [v1, core] of FIELDS) {
    const [from, to] = toCore ? [v1, core] : [core, v1];
    if (src[from] !== undefined) out[to] = src[from];
  }
  return out;
}

/** events.k8s.io/v1 → core/v1 (storage). */
export function eventsV1ToCore(o: KObject): KObject {
  const out = convert(o, 'v1', true);
  out['involvedObject'] ??= {};
  return out as KObject;
}

/** core/v1 (storage) → events.k8s.io/v1. */
export function coreToEventsV1(o: KObject): KObject {
  return convert(o, 'events.k8s.io/v1', false) as KObject;
}

export const eventsV1Strategy: Strategy = {
  info: info('events.k8s.io', 'v1', 'events', 'event', 'Event', true, { shortNames: ['ev'] }),
  allowCreateOnUpdate: true,
  validate(obj) {
    const errs = [];
    if (!obj['eventTime']) errs.push(fieldErr.required('eventTime', ''));
    if (!obj['reportingController']) errs.push(fieldErr.required('reportingController', ''));
    if (!obj['reportingInstance']) errs.push(fieldErr.required('reportingInstance', ''));
    if (!obj['action']) errs.push(fieldErr.required('action', ''));
    if (!obj['reason']) errs.push(fieldErr.required('reason', ''));
    if (obj['type'] !== 'Normal' && obj['type'] !== 'Warning')
      errs.push(fieldErr.notSupported('type', obj['type'] ?? '', ['Normal', 'Warning']));
    return errs;
  },
  storedAs: { group: '', resource: 'events', toStorage: eventsV1ToCore, fromStorage: coreToEventsV1 },
  row(obj, now) {
    return [obj.metadata.name ?? '', age(obj.metadata.creationTimestamp, now)];
  },
  columns: [
    { name: 'Name', type: 'string', format: 'name' },
    { name: 'Age', type: 'string' },
  ],
};
