/**
 * Server-side apply (application/apply-patch+yaml): the applied configuration's fields become owned by
 * the field manager; fields it owned before and no longer applies are removed unless someone else owns
 * them; applying a different value to a field another manager owns is a conflict (409) unless forced.
 */
import { deepCopy, isPlainObject, type KObject, rfc3339 } from '../api/object.ts';
import { errors, StatusError } from '../api/status.ts';
import {
  decodePath,
  type FieldSet,
  fieldSet,
  fromFieldsV1,
  itemKey,
  listKind,
  pathString,
  removeAt,
  toFieldsV1,
  valueAt,
} from './field-paths.ts';
import { entriesOf, entry, type ManagedFieldsEntry, sameOwner, trackedPart } from './managed-fields.ts';
import { fieldOf, itemsOf, rootFor, type SchemaPos } from './schema.ts';

type Obj = Record<string, unknown>;

interface Conflict {
  manager: string;
  apiVersion: string;
  path: string;
}

function conflictError(
  conflicts: Conflict[],
  gr: { group: string; resource: string },
  name: string,
): StatusError {
  const n = conflicts.length;
  let message: string;
  if (n === 1) {
    const c = conflicts[0]!;
    message = `Apply failed with 1 conflict: conflict with "${c.manager}" using ${c.apiVersion}: ${c.path}`;
  } else {
    const byManager = new Map<string, Conflict[]>();
    for (const c of conflicts)
      byManager.set(`${c.manager}|${c.apiVersion}`, [
        ...(byManager.get(`${c.manager}|${c.apiVersion}`) ?? []),
        c,
      ]);
    const parts = [...byManager.values()].map(
      (cs) =>
        `conflicts with "${cs[0]!.manager}" using ${cs[0]!.apiVersion}:\n${cs.map((c) => `- ${c.path}`).join('\n')}`,
    );
    message = `Apply failed with ${n} conflicts: ${parts.join('\n')}`;
  }
  return new StatusError(409, 'Conflict', message, {
    name,
    group: gr.group,
    kind: gr.resource,
    causes: conflicts.map((c) => ({
      reason: 'FieldManagerConflict',
      message: `conflict with "${c.manager}" using ${c.apiVersion}`,
      field: c.path,
    })),
  });
}

/** Merge an applied configuration into the live object (associative lists by key, sets by value). */
function mergeApplied(live: Obj, cfg: Obj, pos: SchemaPos): Obj {
  const out: Obj = { ...live };
  for (const [k, v] of Object.entries(cfg)) {
    if (v === null || v === undefined) {
      delete out[k];
      continue;
    }
    const child = fieldOf(pos, k);
    const cur = out[k];
    if (isPlainObject(v)) out[k] = mergeApplied(isPlainObject(cur) ? cur : {}, v, child);
    else if (Array.isArray(v)) {
      const lk = listKind(pos, k);
      if (lk.kind === 'map' && Array.isArray(cur) && v.every(isPlainObject) && cur.every(isPlainObject)) {
        const merged = [...(cur as Obj[])];
        for (const el of v as Obj[]) {
          const key = itemKey(el, lk.keys!);
          const i = merged.findIndex((m) => itemKey(m, lk.keys!) === key);
          if (i >= 0) merged[i] = mergeApplied(merged[i]!, el, itemsOf(child));
          else merged.push(el);
        }
        out[k] = merged;
      } else if (lk.kind === 'set' && Array.isArray(cur)) {
        const merged = [...cur];
        for (const el of v)
          if (!merged.some((m) => JSON.stringify(m) === JSON.stringify(el))) merged.push(el);
        out[k] = merged;
      } else out[k] = v;
    } else out[k] = v;
  }
  return out;
}

export interface ApplyOptions {
  manager: string;
  force: boolean;
  /** The served version of the object (e.g. "apps/v1"). */
  apiVersion: string;
  kind: string;
  now: Date;
  subresource?: string;
  gr: { group: string; resource: string };
  name: string;
}

export function serverSideApply(live: KObject | undefined, applied: unknown, o: ApplyOptions): KObject {
  if (!isPlainObject(applied))
    throw errors.badRequest('error decoding YAML: the applied configuration must be an object');
  if (applied['apiVersion'] !== undefined && applied['apiVersion'] !== o.apiVersion)
    throw errors.badRequest(
      `the API version in the data (${String(applied['apiVersion'])}) does not match the expected API version (${o.apiVersion})`,
    );
  if (applied['kind'] !== undefined && applied['kind'] !== o.kind)
    throw errors.badRequest(
      `the kind in the data (${String(applied['kind'])}) does not match the expected kind (${o.kind})`,
    );
  if (applied['metadata'] !== undefined && !isPlainObject(applied['metadata']))
    throw errors.badRequest('metadata must be an object');
  const pos = rootFor(o.apiVersion, o.kind);
  const cfg = deepCopy(applied);
  const cfgTracked = trackedPart(cfg as Obj, o.subresource);
  const cfgSet = fieldSet(cfgTracked, pos);
  const entries = entriesOf(live);
  const sub = o.subresource ?? '';
  const others = entries.filter((e) => !sameOwner(e, o.manager, 'Apply', o.subresource));
  const mine = entries.find((e) => sameOwner(e, o.manager, 'Apply', o.subresource));
  const liveTracked = live ? trackedPart(live, o.subresource) : {};

  // Conflicts: a field another manager owns (in the same subresource) whose value would change.
  const otherSets = others.map((e) => ({ e, set: fromFieldsV1(e.fieldsV1) }));
  const conflicts: Conflict[] = [];
  const stolen = new Map<ManagedFieldsEntry, string[]>();
  for (const { e, set } of otherSets) {
    if ((e.subresource ?? '') !== sub) continue;
    for (const p of cfgSet) {
      if (!set.has(p)) continue;
      const path = decodePath(p);
      if (path[path.length - 1] === '.' || path[path.length - 1]?.startsWith('v:')) continue;
      const a = valueAt(liveTracked, path);
      const b = valueAt(cfgTracked, path);
      if (a.found && JSON.stringify(a.value) === JSON.stringify(b.value)) continue;
      conflicts.push({ manager: e.manager ?? '', apiVersion: e.apiVersion ?? '', path: pathString(path) });
      stolen.set(e, [...(stolen.get(e) ?? []), p]);
    }
  }
  if (conflicts.length && !o.force) throw conflictError(conflicts, o.gr, o.name);
  for (const { e, set } of otherSets) for (const p of stolen.get(e) ?? []) set.delete(p);

  // Fields this manager stops applying go away unless someone else still owns them.
  const retained: FieldSet = new Set(cfgSet);
  for (const { set } of otherSets) for (const p of set) retained.add(p);
  const prev = mine ? fromFieldsV1(mine.fieldsV1) : new Set<string>();
  const result = deepCopy((live ?? {}) as Obj);
  const retainedPaths = [...retained].map(decodePath);
  const toRemove = [...prev]
    .filter((p) => !retained.has(p))
    .map(decodePath)
    .filter((p) => {
      const base = p[p.length - 1] === '.' ? p.slice(0, -1) : p;
      return !retainedPaths.some((r) => r.length > base.length && base.every((t, i) => r[i] === t));
    })
    .sort((a, b) => b.length - a.length);
  const target = o.subresource === 'status' ? result : result;
  for (const p of toRemove) removeAt(target, p);

  // Merge the configuration (identity fields come from the URL/live object).
  const cfgToMerge = deepCopy(cfg as Obj);
  if (o.subresource === 'status') {
    for (const k of Object.keys(cfgToMerge)) if (k !== 'status') delete cfgToMerge[k];
  } else delete cfgToMerge['status'];
  if (isPlainObject(cfgToMerge['metadata'])) {
    const m = cfgToMerge['metadata'];
    delete m['managedFields'];
    delete m['resourceVersion'];
    delete m['uid'];
  }
  const merged = mergeApplied(result, cfgToMerge, pos) as KObject;
  if (!isPlainObject(merged.metadata)) merged.metadata = {};

  const outEntries: ManagedFieldsEntry[] = [];
  for (const { e, set } of otherSets) if (set.size) outEntries.push({ ...e, fieldsV1: toFieldsV1(set) });
  if (cfgSet.size) {
    const unchanged =
      mine &&
      JSON.stringify(fromFieldsV1(mine.fieldsV1)) === JSON.stringify(cfgSet) &&
      mine.apiVersion === o.apiVersion;
    outEntries.push(unchanged ? mine : entry(o.manager, 'Apply', o.apiVersion, o.now, cfgSet, o.subresource));
  }
  if (outEntries.length) merged.metadata.managedFields = outEntries as KObject['metadata']['managedFields'];
  else delete merged.metadata.managedFields;
  void rfc3339;
  return merged;
}
