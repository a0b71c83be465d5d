/**
 * Server-side apply (application/apply-patch+yaml), after structured-merge-diff's Updater.Apply and the
 * apiserver field manager:
 *
 * 1. the applied configuration is merged into the live object (maps by field, associative lists by their
 *    keys, set lists by value, atomic lists and structs replaced whole);
 * 2. fields the manager applied last time and no longer applies are removed, unless another manager owns
 *    them (or something beneath them);
 * 3. every field whose value the operation adds or changes and that another manager owns is a conflict:
 *    409 unless `force`, which moves the ownership;
 * 4. the manager's Apply entry then owns exactly the fields of its configuration.
 *
 * `status` is tracked only through the status subresource; identity and system metadata never are.
 */
import type { KObject } from '../api/object.ts';
import { rfc3339 } from '../api/object.ts';
import { errors, StatusError, type StatusCause } from '../api/status.ts';
import {
  compare,
  compareTokens,
  decodePath,
  getAt,
  isPrefix,
  itemKey,
  leaves,
  listTypeOf,
  pathString,
  removeAt,
  typedError,
  valueToken,
  type FieldSet,
  type Path,
} from './field-paths.ts';
import {
  decodeEntries,
  identity,
  minus,
  printManager,
  sameIdentity,
  trackedPart,
  writeEntries,
  type Owner,
} from './managed-fields.ts';
import { schemaFor, type FieldSchema, type SchemaNode } from './merge-keys.ts';
import { assertDepth, clone, deepEqual, has, isObj, own, put, type Obj } from './util.ts';

export interface ApplyOptions {
  /** The field manager (`fieldManager` query parameter). */
  manager: string;
  force: boolean;
  /** The served version of the object (e.g. "apps/v1"). */
  apiVersion: string;
  kind: string;
  now: Date;
  subresource?: string;
  gr: { group: string; resource: string };
  /** The object's name from the URL. */
  name: string;
}

interface Conflict {
  owner: Owner;
  path: Path;
}

function comparePaths(a: Path, b: Path): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compareTokens(a[i]!, b[i]!);
    if (c) return c;
  }
  return a.length - b.length;
}

/** The 409 of apimachinery NewApplyConflict with the fieldmanager's message. */
export function applyConflictError(conflicts: Conflict[]): StatusError {
  const byManager = new Map<string, Conflict[]>();
  for (const c of conflicts) {
    const id = identity(c.owner);
    byManager.set(id, [...(byManager.get(id) ?? []), c]);
  }
  const ids = [...byManager.keys()].sort();
  const ordered = ids.flatMap((id) => byManager.get(id)!.sort((a, b) => comparePaths(a.path, b.path)));
  let message: string;
  if (ordered.length === 1) {
    const c = ordered[0]!;
    message = `Apply failed with 1 conflict: conflict with ${printManager(c.owner)}: ${pathString(c.path)}`;
  } else {
    const lines: string[] = [];
    for (const id of ids) {
      const cs = byManager.get(id)!;
      lines.push(`conflicts with ${printManager(cs[0]!.owner)}:`);
      for (const c of cs) lines.push(`- ${pathString(c.path)}`);
    }
    message = `Apply failed with ${ordered.length} conflicts: ${lines.join('\n')}`;
  }
  const causes: StatusCause[] = ordered.map((c) => ({
    reason: 'FieldManagerConflict',
    message: `conflict with ${printManager(c.owner)}`,
    field: pathString(c.path),
  }));
  return new StatusError(409, 'Conflict', message, { causes });
}

/* ---------- merging the configuration into the live object ---------- */

function mergeObject(lhs: Obj, rhs: Obj, schema: SchemaNode): Obj {
  const out: Obj = {};
  for (const k of Object.keys(lhs)) put(out, k, lhs[k]);
  for (const k of Object.keys(rhs)) {
    const r = rhs[k];
    if (r === undefined) continue;
    if (r === null) {
      delete out[k];
      continue;
    }
    put(out, k, mergeField(own(out, k), r, schema.field(k)));
  }
  return out;
}

function mergeField(l: unknown, r: unknown, fs: FieldSchema): unknown {
  if (Array.isArray(r)) {
    const type = listTypeOf(fs.list);
    if (type === 'atomic' || !Array.isArray(l)) return clone(r);
    return type === 'map' ? mergeItems(l, r, fs, true) : mergeItems(l, r, fs, false);
  }
  if (isObj(r)) {
    if (fs.schema.atomic) return clone(r);
    return mergeObject(isObj(l) ? l : {}, r, fs.schema);
  }
  return r;
}

/**
 * Merge two associative (or set) lists: items only in the live list keep their place, items of the
 * configuration come in its order, matching items are merged.
 */
function mergeItems(l: unknown[], r: unknown[], fs: FieldSchema, assoc: boolean): unknown[] {
  const key = (el: unknown): string | undefined => {
    if (!assoc) return isObj(el) || Array.isArray(el) ? undefined : valueToken(el);
    if (!isObj(el) || !fs.list) return undefined;
    const k = itemKey(el, fs.list);
    return typeof k === 'string' ? k : undefined;
  };
  const lKeys = l.map(key);
  const rKeys = r.map(key);
  const inR = new Set(rKeys.filter((k): k is string => k !== undefined));
  const done = new Set<string>();
  const out: unknown[] = [];
  const merge = (li: number, ri: number): unknown => {
    const rv = r[ri];
    if (!assoc) return rv;
    const lv = li >= 0 ? l[li] : undefined;
    return mergeObject(isObj(lv) ? lv : {}, isObj(rv) ? rv : {}, fs.schema);
  };
  let i = 0;
  let j = 0;
  while (i < l.length || j < r.length) {
    const lk = i < l.length ? lKeys[i] : undefined;
    if (i < l.length && j < r.length && lk !== undefined && lk === rKeys[j] && !done.has(lk)) {
      out.push(merge(i, j));
      done.add(lk);
      i++;
      j++;
      continue;
    }
    if (i < l.length) {
      if (lk === undefined || !inR.has(lk)) {
        out.push(l[i]);
        i++;
        continue;
      }
      if (done.has(lk)) {
        i++;
        continue;
      }
    }
    if (j < r.length) {
      const rk = rKeys[j];
      if (rk !== undefined && done.has(rk)) {
        j++;
        continue;
      }
      out.push(merge(rk === undefined ? -1 : lKeys.indexOf(rk), j));
      if (rk !== undefined) done.add(rk);
      j++;
      continue;
    }
    i++;
  }
  return out;
}

/* ---------- apply ---------- */

function gvkString(apiVersion: string, kind: string): string {
  return `${apiVersion.includes('/') ? apiVersion : `/${apiVersion}`}, Kind=${kind}`;
}

function validate(applied: unknown, o: ApplyOptions): asserts applied is Obj {
  if (!isObj(applied))
    throw errors.badRequest(
      `error decoding YAML: json: cannot unmarshal ${Array.isArray(applied) ? 'array' : typeof applied} into Go value of type map[string]interface {}`,
    );
  const av = applied['apiVersion'];
  if (av !== o.apiVersion)
    throw errors.badRequest(
      `Incorrect version specified in apply patch. Specified patch version: ${typeof av === 'string' ? av : ''}, expected: ${o.apiVersion}`,
    );
  const kind = applied['kind'];
  if (typeof kind !== 'string' || kind === '')
    throw errors.badRequest(`Object 'Kind' is missing in '${JSON.stringify(applied)}'`);
  if (kind !== o.kind)
    throw errors.badRequest(
      `the kind in the applied configuration (${kind}) does not match the kind of the resource (${o.kind})`,
    );
  const meta = applied['metadata'];
  if (meta !== undefined && meta !== null && !isObj(meta))
    throw errors.badRequest('error decoding YAML: metadata must be an object');
  if (isObj(meta)) {
    if (meta['managedFields'] !== undefined && meta['managedFields'] !== null)
      throw errors.badRequest('metadata.managedFields must be nil');
    const name = meta['name'];
    if (o.name && name !== undefined && name !== o.name)
      throw errors.badRequest(
        `the name of the object (${String(name)}) does not match the name on the URL (${o.name})`,
      );
  }
}

/** The part of the configuration that is merged into the object. */
function mergeablePart(cfg: Obj, subresource: string): Obj {
  if (subresource === 'status') return has(cfg, 'status') ? { status: clone(cfg['status']) } : {};
  const out: Obj = {};
  for (const k of Object.keys(cfg)) if (k !== 'status') put(out, k, clone(cfg[k]));
  if (isObj(out['metadata'])) {
    const m = out['metadata'];
    for (const k of [
      'managedFields',
      'resourceVersion',
      'uid',
      'creationTimestamp',
      'generation',
      'selfLink',
    ])
      delete m[k];
  }
  return out;
}

export function serverSideApply(live: KObject | undefined, applied: unknown, o: ApplyOptions): KObject {
  assertDepth(applied);
  validate(applied, o);
  const sub = o.subresource ?? '';
  const schema = schemaFor(o.apiVersion, o.kind);
  const context = `failed to create typed patch object (${gvkString(o.apiVersion, o.kind)})`;

  let cfgSet: FieldSet;
  try {
    cfgSet = new Set(leaves(trackedPart(applied, sub), schema).keys());
  } catch (e) {
    typedError(e, context);
  }

  const owners = decodeEntries(live?.metadata?.managedFields) ?? [];
  const me = { manager: o.manager, operation: 'Apply' as const, apiVersion: o.apiVersion, subresource: sub };
  const prev = owners.find((x) => sameIdentity(x, me));
  const others = owners.filter((x) => x !== prev);

  const before = clone((live ?? {}) as Obj);
  const merged = mergeObject(before, mergeablePart(applied, sub), schema);

  // Prune what this manager applied last time and nobody owns any more.
  if (prev) {
    const kept = new Set(cfgSet);
    for (const x of others) for (const p of x.set) kept.add(p);
    const keptPaths = [...kept].map(decodePath);
    const ownsBelow = (p: Path) => keptPaths.some((k) => isPrefix(p, k));
    const gone = [...prev.set]
      .filter((p) => !kept.has(p))
      .map(decodePath)
      .filter((p) => !ownsBelow(p));
    // Remove the outermost paths only (a removed list item takes its fields with it; removing the
    // fields first would lose the item's key).
    for (const p of gone) if (!gone.some((q) => isPrefix(q, p))) removeAt(merged, p, schema);
    // Maps and lists left empty by the removal go too, unless someone owns them or something below.
    const parents = new Map<string, Path>();
    for (const p of gone)
      for (let n = p.length - 1; n >= 1; n--) {
        const a = p.slice(0, n);
        if (a.length === 1 && a[0] === 'f:metadata') continue;
        parents.set(JSON.stringify(a), a);
      }
    for (const a of [...parents.values()].sort((x, y) => y.length - x.length)) {
      if (kept.has(JSON.stringify(a)) || ownsBelow(a)) continue;
      const v = getAt(merged, a, schema);
      if ((isObj(v) && Object.keys(v).length === 0) || (Array.isArray(v) && v.length === 0))
        removeAt(merged, a, schema);
    }
  }

  let liveLeaves: Map<string, unknown>;
  try {
    liveLeaves = leaves(trackedPart(live, sub), schema);
  } catch {
    liveLeaves = new Map();
  }
  let mergedLeaves: Map<string, unknown>;
  try {
    mergedLeaves = leaves(trackedPart(merged, sub), schema);
  } catch (e) {
    typedError(e, `failed to merge config (${gvkString(o.apiVersion, o.kind)})`);
  }
  const cmp = compare(liveLeaves, mergedLeaves);
  const changed = new Set([...cmp.added, ...cmp.modified]);

  const conflicts: Conflict[] = [];
  for (const x of others)
    for (const p of x.set) if (changed.has(p)) conflicts.push({ owner: x, path: decodePath(p) });
  if (conflicts.length && !o.force) throw applyConflictError(conflicts);

  const next: Owner[] = others.map((x) => ({ ...x, set: minus(x.set, changed, cmp.removed) }));
  const objectChanged = !deepEqual(trackedPart(live, sub), trackedPart(merged, sub)) || !live;
  const time = objectChanged || !prev?.time ? rfc3339(o.now) : prev.time;
  next.push({ ...me, time, set: cfgSet });

  const out = merged as KObject;
  if (!isObj(out.metadata)) out.metadata = {};
  writeEntries(out, next);
  return out;
}
