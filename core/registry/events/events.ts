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

function move(from: Obj, to: Obj, a: string, b: string): void {
  if (from[a] !== undefined) to[b] = from[a];
}

/** events.k8s.io/v1 → core/v1 (storage). */
export function eventsV1ToCore(o: KObject): KObject {
  const e = o as Obj;
  const out: Obj = { apiVersion: 'v1', kind: 'Event', metadata: deepCopy(o.metadata) };
  move(e, out, 'note', 'message');
  move(e, out, 'regarding', 'involvedObject');
  move(e, out, 'related', 'related');
  move(e, out, 'reason', 'reason');
  move(e, out, 'type', 'type');
  move(e, out, 'action', 'action');
  move(e, out, 'eventTime', 'eventTime');
  move(e, out, 'series', 'series');
  move(e, out, 'reportingController', 'reportingComponent');
  move(e, out, 'reportingInstance', 'reportingInstance');
  move(e, out, 'deprecatedSource', 'source');
  move(e, out, 'deprecatedFirstTimestamp', 'firstTimestamp');
  move(e, out, 'deprecatedLastTimestamp', 'lastTimestamp');
  move(e, out, 'deprecatedCount', 'count');
  out['involvedObject'] ??= {};
  return out as KObject;
}

/** core/v1 (storage) → events.k8s.io/v1. */
export function coreToEventsV1(o: KObject): KObject {
  const e = o as Obj;
  const out: Obj = { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: deepCopy(o.metadata) };
  move(e, out, 'message', 'note');
  move(e, out, 'involvedObject', 'regarding');
  move(e, out, 'related', 'related');
  move(e, out, 'reason', 'reason');
  move(e, out, 'type', 'type');
  move(e, out, 'action', 'action');
  move(e, out, 'eventTime', 'eventTime');
  move(e, out, 'series', 'series');
  move(e, out, 'reportingComponent', 'reportingController');
  move(e, out, 'reportingInstance', 'reportingInstance');
  move(e, out, 'source', 'deprecatedSource');
  move(e, out, 'firstTimestamp', 'deprecatedFirstTimestamp');
  move(e, out, 'lastTimestamp', 'deprecatedLastTimestamp');
  move(e, out, 'count', 'deprecatedCount');
  return out as KObject;
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
