/**
 * metadata.managedFields bookkeeping: which manager owns which fields, updated on every write.
 * Non-apply writes (operation Update) take ownership of every field they set or change; fields removed
 * from the object leave every set.
 */
import { deepCopy, isPlainObject, type KObject, rfc3339 } from '../api/object.ts';
import { type FieldSet, fieldSet, fromFieldsV1, toFieldsV1, valueAt, decodePath } from './field-paths.ts';
import { rootFor, type SchemaPos } from './schema.ts';

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: 'Apply' | 'Update';
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: Record<string, unknown>;
  subresource?: string;
}

type Obj = Record<string, unknown>;

/** What server-side apply tracks of an object: no identity/system metadata, and status only via /status. */
export function trackedPart(obj: KObject | Obj, subresource?: string): Obj {
  const c = deepCopy(obj) as Obj;
  delete c['apiVersion'];
  delete c['kind'];
  if (subresource === 'status') {
    return c['status'] === undefined ? {} : { status: c['status'] };
  }
  delete c['status'];
  if (isPlainObject(c['metadata'])) {
    const m = c['metadata'];
    for (const k of [
      'name',
      'namespace',
      'uid',
      'resourceVersion',
      'generation',
      'creationTimestamp',
      'managedFields',
      'selfLink',
      'deletionTimestamp',
      'deletionGracePeriodSeconds',
      'generateName',
    ])
      delete m[k];
    if (Object.keys(m).length === 0) delete c['metadata'];
  }
  return c;
}

export function schemaFor(obj: KObject | Obj, apiVersion: string): SchemaPos {
  return rootFor(apiVersion, String(obj['kind'] ?? ''));
}

export function entriesOf(obj: KObject | undefined): ManagedFieldsEntry[] {
  const mf = obj?.metadata?.managedFields;
  return Array.isArray(mf) ? (deepCopy(mf) as ManagedFieldsEntry[]) : [];
}

export function sameOwner(
  e: ManagedFieldsEntry,
  manager: string,
  operation: string,
  subresource?: string,
): boolean {
  return e.manager === manager && e.operation === operation && (e.subresource ?? '') === (subresource ?? '');
}

export function entry(
  manager: string,
  operation: 'Apply' | 'Update',
  apiVersion: string,
  now: Date,
  set: FieldSet,
  subresource?: string,
): ManagedFieldsEntry {
  return {
    manager,
    operation,
    apiVersion,
    time: rfc3339(now),
    fieldsType: 'FieldsV1',
    fieldsV1: toFieldsV1(set),
    ...(subresource ? { subresource } : {}),
  };
}

/**
 * Record a non-apply write by `manager`. Mutates newObj.metadata.managedFields.
 * kind/apiVersion come from newObj (set by the registry) or the given apiVersion.
 */
export function updateManagedFieldsForUpdate(
  oldObj: KObject | undefined,
  newObj: KObject,
  manager: string,
  apiVersion: string,
  now: Date,
  subresource?: string,
): void {
  const pos = schemaFor(newObj, apiVersion);
  const newTracked = trackedPart(newObj, subresource);
  const oldTracked = oldObj ? trackedPart(oldObj, subresource) : {};
  const newSet = fieldSet(newTracked, pos);
  const oldSet = fieldSet(oldTracked, pos);
  const changed = new Set<string>();
  for (const p of newSet) {
    if (!oldSet.has(p)) changed.add(p);
    else if (
      JSON.stringify(valueAt(oldTracked, decodePath(p)).value) !==
      JSON.stringify(valueAt(newTracked, decodePath(p)).value)
    )
      changed.add(p);
  }
  const removed = [...oldSet].filter((p) => !newSet.has(p));
  // Entries: those the client sent (e.g. a JSON patch of managedFields), else the old ones.
  const base = Array.isArray(newObj.metadata.managedFields) ? entriesOf(newObj) : entriesOf(oldObj);
  const out: ManagedFieldsEntry[] = [];
  let mine: ManagedFieldsEntry | undefined;
  for (const e of base) {
    const set = fromFieldsV1(e.fieldsV1);
    for (const p of removed) set.delete(p);
    if (sameOwner(e, manager, 'Update', subresource) && e.apiVersion === apiVersion) {
      for (const p of changed) set.add(p);
      mine = { ...e, fieldsV1: toFieldsV1(set), ...(changed.size ? { time: rfc3339(now) } : {}) };
      if (set.size) out.push(mine);
      continue;
    }
    if ((e.subresource ?? '') === (subresource ?? '')) for (const p of changed) set.delete(p);
    if (set.size) out.push({ ...e, fieldsV1: toFieldsV1(set) });
  }
  if (!mine && changed.size) out.push(entry(manager, 'Update', apiVersion, now, changed, subresource));
  if (out.length) newObj.metadata.managedFields = out as KObject['metadata']['managedFields'];
  else delete newObj.metadata.managedFields;
}
