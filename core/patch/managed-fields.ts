/**
 * metadata.managedFields bookkeeping (apiserver fieldmanager + structured-merge-diff Updater):
 * which manager owns which fields. Every write by a non-apply request (POST, PUT, merge/JSON/strategic
 * patch) is an `Update`: its manager takes ownership of every field it added or changed, and those fields
 * leave every other manager's set; removed fields leave every set; entries left owning nothing are dropped.
 */
import type { KObject } from '../api/object.ts';
import { rfc3339 } from '../api/object.ts';
import { compare, fromFieldsV1, leaves, toFieldsV1, TypedError, type FieldSet } from './field-paths.ts';
import { schemaFor, type SchemaNode } from './merge-keys.ts';
import { clone, isObj, type Obj } from './util.ts';

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: 'Apply' | 'Update';
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: Record<string, unknown>;
  subresource?: string;
}

/** An entry decoded: its identity and its set. */
export interface Owner {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  subresource: string;
  time?: string;
  set: FieldSet;
}

/** Metadata fields the field manager never tracks (apiserver stripMeta), plus server-owned ones. */
const UNTRACKED_META = [
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'managedFields',
  'selfLink',
  'clusterName',
  'generateName',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
];

/**
 * What server-side apply tracks of an object: no apiVersion/kind/identity metadata; `status` only
 * through the status subresource, and only `status` there.
 */
export function trackedPart(obj: unknown, subresource?: string): Obj {
  if (!isObj(obj)) return {};
  if (subresource === 'status') return isObj(obj['status']) ? { status: clone(obj['status']) } : {};
  const c: Obj = {};
  for (const k of Object.keys(obj)) {
    if (k === 'apiVersion' || k === 'kind' || k === 'status') continue;
    c[k] = clone(obj[k]);
  }
  if (isObj(c['metadata'])) {
    const m = c['metadata'];
    for (const k of UNTRACKED_META) delete m[k];
    if (Object.keys(m).length === 0) delete c['metadata'];
  }
  return c;
}

/** Decode managedFields; undefined when they are not a valid list of entries. */
export function decodeEntries(mf: unknown): Owner[] | undefined {
  if (!Array.isArray(mf)) return undefined;
  const out: Owner[] = [];
  for (const e of mf) {
    if (!isObj(e)) return undefined;
    if (e['fieldsType'] !== undefined && e['fieldsType'] !== 'FieldsV1') return undefined;
    if (e['fieldsV1'] !== undefined && !isObj(e['fieldsV1'])) return undefined;
    const op = e['operation'];
    if (op !== undefined && op !== 'Apply' && op !== 'Update') return undefined;
    const str = (k: string): string => (typeof e[k] === 'string' ? (e[k] as string) : '');
    out.push({
      manager: str('manager'),
      operation: op === 'Apply' ? 'Apply' : 'Update',
      apiVersion: str('apiVersion'),
      subresource: str('subresource'),
      ...(typeof e['time'] === 'string' ? { time: e['time'] } : {}),
      set: fromFieldsV1(e['fieldsV1']),
    });
  }
  return out;
}

/** Whether two owners are the same manager identity (Apply entries ignore the apiVersion). */
export function sameIdentity(
  a: Owner,
  b: Pick<Owner, 'manager' | 'operation' | 'apiVersion' | 'subresource'>,
): boolean {
  return (
    a.manager === b.manager &&
    a.operation === b.operation &&
    a.subresource === b.subresource &&
    (a.operation === 'Apply' || a.apiVersion === b.apiVersion)
  );
}

/** The manager identity as the apiserver serialises it (what conflicts are grouped and sorted by). */
export function identity(o: Pick<Owner, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  return JSON.stringify({
    ...(o.manager ? { manager: o.manager } : {}),
    operation: o.operation,
    ...(o.operation === 'Update' && o.apiVersion ? { apiVersion: o.apiVersion } : {}),
    ...(o.subresource ? { subresource: o.subresource } : {}),
  });
}

/** How conflicts name a manager: `"m"`, `"m" with subresource "status"`, `"m" using apps/v1`. */
export function printManager(o: Pick<Owner, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  let s = JSON.stringify(o.manager);
  if (o.subresource) s += ` with subresource ${JSON.stringify(o.subresource)}`;
  if (o.operation === 'Update') s += ` using ${o.apiVersion}`;
  return s;
}

/** Encode, drop empty entries, and sort as the apiserver does (operation, time, manager, version, subresource). */
export function encodeEntries(owners: Owner[]): ManagedFieldsEntry[] {
  const kept = owners.filter((o) => o.set.size > 0);
  const secs = (t?: string): number => {
    const n = t ? Date.parse(t) : NaN;
    return Number.isNaN(n) ? 0 : Math.floor(n / 1000);
  };
  const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  kept.sort(
    (p, q) =>
      cmp(p.operation, q.operation) ||
      secs(p.time) - secs(q.time) ||
      cmp(p.manager, q.manager) ||
      cmp(p.apiVersion, q.apiVersion) ||
      cmp(p.subresource, q.subresource),
  );
  return kept.map((o) => ({
    manager: o.manager,
    operation: o.operation,
    apiVersion: o.apiVersion,
    ...(o.time ? { time: o.time } : {}),
    fieldsType: 'FieldsV1',
    fieldsV1: toFieldsV1(o.set),
    ...(o.subresource ? { subresource: o.subresource } : {}),
  }));
}

export function writeEntries(obj: KObject, owners: Owner[]): void {
  if (!isObj(obj.metadata)) obj.metadata = {};
  const entries = encodeEntries(owners);
  if (entries.length) obj.metadata.managedFields = entries as KObject['metadata']['managedFields'];
  else delete obj.metadata.managedFields;
}

export function minus(set: FieldSet, ...others: FieldSet[]): FieldSet {
  const out = new Set(set);
  for (const o of others) for (const p of o) out.delete(p);
  return out;
}

function kindSchema(obj: unknown, apiVersion: string): SchemaNode {
  const kind = isObj(obj) && typeof obj['kind'] === 'string' ? obj['kind'] : '';
  return schemaFor(apiVersion, kind);
}

/**
 * Record a non-apply write by `manager` (operation Update). Mutates newObj.metadata.managedFields.
 * The entries the client sent in newObj are honoured when they are a valid, non-empty list (this is how
 * clients reset or migrate managed fields; `[{}]` clears them); otherwise the old object's are kept.
 */
export function updateManagedFieldsForUpdate(
  oldObj: KObject | undefined,
  newObj: KObject,
  manager: string,
  apiVersion: string,
  now: Date,
  subresource?: string,
): void {
  const sub = subresource ?? '';
  const sent = sub ? undefined : decodeEntries(newObj.metadata?.managedFields);
  const base = sent && sent.length > 0 ? sent : (decodeEntries(oldObj?.metadata?.managedFields) ?? []);
  const schema = kindSchema(newObj, apiVersion);
  let cmp;
  try {
    cmp = compare(leaves(trackedPart(oldObj, sub), schema), leaves(trackedPart(newObj, sub), schema));
  } catch (e) {
    // An object that cannot be typed (e.g. duplicate list keys) keeps its ownership as it was
    // (upstream UpdateNoErrors logs and carries on); validation rejects such objects anyway.
    if (!(e instanceof TypedError)) throw e;
    writeEntries(newObj, base);
    return;
  }
  const changed = new Set([...cmp.added, ...cmp.modified]);
  const me = { manager, operation: 'Update' as const, apiVersion, subresource: sub };
  let mine: Owner | undefined;
  const owners: Owner[] = [];
  for (const o of base) {
    const set = minus(o.set, cmp.removed, changed);
    if (!mine && sameIdentity(o, me)) {
      mine = { ...o, apiVersion, set };
      owners.push(mine);
    } else owners.push({ ...o, set });
  }
  if (changed.size) {
    if (!mine) {
      mine = { ...me, set: new Set() };
      owners.push(mine);
    }
    for (const p of changed) mine.set.add(p);
    mine.time = rfc3339(now);
  }
  writeEntries(newObj, owners);
}
