/**
 * Strategic Merge Patch for the built-in kinds, with the semantics of k8s.io/apimachinery
 * pkg/util/strategicpatch (StrategicMergeMapPatch with MergeParallelList and IgnoreUnmatchedNulls):
 *
 * - maps merge key by key; `null` deletes; a value of another type replaces;
 * - lists whose field has patchStrategy merge are merged: lists of maps by the patch merge key, primitive
 *   lists as ordered sets; all other lists are replaced whole;
 * - `$patch: replace` (map or list element) replaces, `$patch: delete` deletes (a map becomes `{}`; a list
 *   element is removed by key); `$patch: merge` and unknown directives are errors, as upstream;
 * - `$setElementOrder/<list>` orders the merged list, `$deleteFromPrimitiveList/<list>` removes values,
 *   `$retainKeys` clears the keys of the original map it does not name;
 * - element order of merged lists: patch items in patch order, server-only items interleaved by their
 *   original position (upstream normalizeElementOrder / mergeSortedSlice).
 *
 * Errors map as apiserver interpretStrategicMergePatchError does: malformed directives → 400, lists of
 * lists → 422, anything else (e.g. a missing merge key) → the raw error, which the apiserver sends as a 500.
 * Directives and nulls never leak into the stored object (upstream would drop them when decoding into
 * the typed struct).
 */
import { errors, StatusError } from '../api/status.ts';
import { isBuiltinKind, schemaFor, type FieldSchema, type SchemaNode } from './merge-keys.ts';
import {
  assertDepth,
  clone,
  copyObj,
  genericUnprocessable,
  goFmt,
  goType,
  has,
  isObj,
  jsonKind,
  own,
  put,
  rawError,
  type Obj,
} from './util.ts';

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ORDER = '$setElementOrder';
const DELETE_FROM = '$deleteFromPrimitiveList';

/** Errors of the merge, classified as the apiserver classifies them. */
const BAD_PRIMITIVE_LIST = 'invalid patch format of primitive list';
const BAD_RETAIN_KEYS = 'invalid patch format of retainKeys';
const BAD_SET_ORDER = 'invalid patch format of setElementOrder list';
const NO_LIST_OF_LISTS = 'lists of lists are not supported';

export function strategicMergePatch(
  original: unknown,
  patch: unknown,
  apiVersion: string,
  kind: string,
): unknown {
  if (patch === null) return isObj(original) ? clone(original) : {};
  if (!isObj(patch))
    throw errors.badRequest(
      `json: cannot unmarshal ${jsonKind(patch)} into Go value of type map[string]interface {}`,
    );
  assertDepth(patch);
  assertDepth(original);
  return mergeMap(isObj(original) ? clone(original) : {}, clone(patch), schemaFor(apiVersion, kind));
}

/** Every kind built into Kubernetes supports strategic merge patch; custom resources do not. */
export function supportsStrategicMerge(apiVersion: string, kind: string): boolean {
  return isBuiltinKind(apiVersion, kind);
}

function badRequest(message: string): StatusError {
  return errors.badRequest(message);
}

function noMergeKey(m: Obj, key: string): StatusError {
  return rawError(`map: ${goFmt(m)} does not contain declared merge key: ${key}`);
}

function badArgType(expected: string, actual: unknown): StatusError {
  return rawError(`expected a ${expected}, but received a ${goType(actual)}`);
}

/** The part of a directive key after "<prefix>/" (upstream extractKey). */
function extractKey(key: string, prefix: string, err: string): string {
  const i = key.indexOf('/');
  if (i < 0 || key.slice(0, i) !== prefix) throw badRequest(err);
  return key.slice(i + 1);
}

function isMergeList(fs: FieldSchema): boolean {
  return fs.list?.patchStrategy !== undefined;
}

/** Merge a patch map into an original map (both owned by the caller; `original` is mutated). */
function mergeMap(original: Obj, patch: Obj, schema: SchemaNode): Obj {
  if (has(patch, DIRECTIVE)) {
    const d = patch[DIRECTIVE];
    if (d === 'replace') {
      const rest = copyObj(patch);
      delete rest[DIRECTIVE];
      return mergeMap({}, rest, schema);
    }
    if (d === 'delete') return {};
    throw rawError(`unknown patch type: ${goFmt(d)} in map: ${goFmt(patch)}`);
  }

  applyRetainKeys(original, patch);
  mergeOrderedLists(original, patch, schema);

  for (const key of Object.keys(patch)) {
    const patchV = patch[key];
    let k = key;
    let isDeleteList = false;
    if (key.startsWith(`${DELETE_FROM}/`) || key === DELETE_FROM) {
      k = extractKey(key, DELETE_FROM, BAD_PRIMITIVE_LIST);
      isDeleteList = true;
    } else if (key.startsWith('$')) {
      // Not a field of any built-in type: upstream keeps it in the map and the typed decode drops it.
      continue;
    }
    if (patchV === null) {
      if (!isDeleteList) delete original[k];
      continue;
    }
    const fs = schema.field(k);
    if (!has(original, k)) {
      if (!isDeleteList) put(original, k, cleanValue(patchV, fs));
      continue;
    }
    const origV = original[k];
    if (goType(origV) !== goType(patchV) && !(typeof origV === 'number' && typeof patchV === 'number')) {
      if (!isDeleteList) put(original, k, cleanValue(patchV, fs));
      continue;
    }
    if (isObj(origV) && isObj(patchV)) {
      if (isDeleteList) continue;
      put(
        original,
        k,
        fs.patchStrategy === 'replace' ? cleanValue(patchV, fs) : mergeMap(origV, patchV, fs.schema),
      );
    } else if (Array.isArray(origV) && Array.isArray(patchV)) {
      put(original, k, mergeSliceHandler(origV, patchV, fs, isDeleteList));
    } else if (!isDeleteList) {
      put(original, k, patchV);
    }
  }
  return original;
}

/** `$retainKeys`: every non-null patch field must be listed; original keys not listed are dropped. */
function applyRetainKeys(original: Obj, patch: Obj): void {
  if (!has(patch, RETAIN_KEYS)) return;
  const list = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(list)) throw badRequest(BAD_RETAIN_KEYS);
  const keep = new Set(list.filter((x): x is string => typeof x === 'string'));
  for (const k of Object.keys(patch)) {
    if (patch[k] === null || k.startsWith(`${DELETE_FROM}/`) || k.startsWith(`${SET_ORDER}/`)) continue;
    if (!keep.has(k)) throw badRequest(BAD_RETAIN_KEYS);
  }
  for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
}

/** `$setElementOrder/<field>`: merge that list now and put it in the requested order. */
function mergeOrderedLists(original: Obj, patch: Obj, schema: SchemaNode): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(`${SET_ORDER}/`) && key !== SET_ORDER) continue;
    const order = patch[key];
    delete patch[key];
    if (!Array.isArray(order)) throw badArgType('[]interface {}', order);
    const field = extractKey(key, SET_ORDER, BAD_SET_ORDER);
    const foundOriginal = has(original, field);
    const foundPatch = has(patch, field);
    const origList = foundOriginal ? original[field] : undefined;
    const patchList = foundPatch ? patch[field] : undefined;
    if (foundOriginal && !Array.isArray(origList)) throw badArgType('[]interface {}', origList);
    if (foundPatch && !Array.isArray(patchList)) throw badArgType('[]interface {}', patchList);
    const fs = schema.field(field);
    const mergeKey = fs.list?.patchMergeKey ?? '';
    validateWithOrder((patchList as unknown[] | undefined) ?? [], order, mergeKey);

    let merged: unknown[];
    if (foundOriginal && foundPatch) {
      merged = mergeSliceHandler(origList as unknown[], patchList as unknown[], fs, false);
    } else if (foundPatch) {
      merged = cleanList(patchList as unknown[], fs);
    } else if (foundOriginal) {
      merged = origList as unknown[];
    } else continue;

    const kind = elementKind(
      (origList as unknown[] | undefined) ?? [],
      (patchList as unknown[] | undefined) ?? [],
    );
    const [inOrder, serverOnly] = partition(merged, order, mergeKey, kind);
    put(
      original,
      field,
      normalizeElementOrder(
        inOrder,
        serverOnly,
        order,
        (origList as unknown[] | undefined) ?? [],
        mergeKey,
        kind,
      ),
    );
    delete patch[field];
  }
}

/** The patch list's items (deletions aside) must appear in the $setElementOrder list, in the same order. */
function validateWithOrder(patchList: unknown[], order: unknown[], mergeKey: string): void {
  if (order.length === 0 || patchList.length === 0) return;
  const nonDelete = mergeKey
    ? patchList.filter((v) => {
        if (!isObj(v)) throw badArgType('map[string]interface {}', v);
        return own(v, DIRECTIVE) !== 'delete';
      })
    : patchList;
  let p = 0;
  let s = 0;
  while (p < nonDelete.length && s < order.length) {
    const item = nonDelete[p];
    if (isObj(item) && has(item, DIRECTIVE)) {
      p++;
      continue;
    }
    if (keyEqual(item, order[s], mergeKey)) p++;
    s++;
  }
  if (p < nonDelete.length && s >= order.length)
    throw rawError(
      `The order in patch list:\n${goFmt(patchList)}\n doesn't match ${SET_ORDER} list:\n${goFmt(order)}\n`,
    );
}

function keyEqual(a: unknown, b: unknown, mergeKey: string): boolean {
  if (!mergeKey) return scalarEqual(a, b);
  if (!isObj(a)) throw badArgType('map[string]interface {}', a);
  if (!isObj(b)) throw badArgType('map[string]interface {}', b);
  if (!has(a, mergeKey)) throw noMergeKey(a, mergeKey);
  if (!has(b, mergeKey)) throw noMergeKey(b, mergeKey);
  return scalarEqual(a[mergeKey], b[mergeKey]);
}

/** Go's interface{} == for decoded JSON scalars (maps and lists never compare equal here). */
function scalarEqual(a: unknown, b: unknown): boolean {
  return a === b && (typeof a !== 'object' || a === null);
}

type ElemKind = 'map' | 'scalar';

/** upstream sliceElementType: all elements of the same type, and no lists of lists. */
function elementKind(...lists: unknown[][]): ElemKind {
  let first: string | undefined;
  for (const l of lists)
    for (const v of l) {
      const t = typeof v === 'number' ? 'number' : goType(v);
      if (first === undefined) {
        first = t;
        if (Array.isArray(v)) throw genericUnprocessable422(NO_LIST_OF_LISTS);
      } else if (first !== t) {
        throw rawError(`list element types are not identical: ${goFmt(lists)}`);
      }
    }
  if (first === undefined) throw rawError('no elements in any of the given slices');
  return first === 'map[string]interface {}' ? 'map' : 'scalar';
}

function genericUnprocessable422(_detail: string): StatusError {
  return genericUnprocessable();
}

function mergeSliceHandler(
  orig: unknown[],
  patch: unknown[],
  fs: FieldSchema,
  isDeleteList: boolean,
): unknown[] {
  if (isMergeList(fs) || isDeleteList) {
    return mergeSlice(orig, patch, fs, isDeleteList);
  }
  return cleanList(patch, fs);
}

function mergeSlice(
  original: unknown[],
  patch: unknown[],
  fs: FieldSchema,
  isDeleteList: boolean,
): unknown[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = elementKind(original, patch);
  const mergeKey = fs.list?.patchMergeKey ?? '';
  let merged: unknown[];
  let orig = original;
  let patchItems = patch;
  if (kind === 'scalar') {
    if (isDeleteList) return orig.filter((x) => !patch.some((d) => scalarEqual(d, x)));
    merged = dedupe([...orig, ...patch]);
  } else {
    if (!mergeKey) throw rawError(`cannot merge lists without merge key for ${fs.schema.name || 'type map'}`);
    [orig, patchItems] = withSpecialElements(orig, patch as Obj[], mergeKey);
    merged = withoutSpecialElements([...orig], patchItems as Obj[], mergeKey, fs);
  }
  const [inPatch, serverOnly] = partition(merged, patchItems, mergeKey, kind);
  return normalizeElementOrder(inPatch, serverOnly, patchItems, orig, mergeKey, kind);
}

function dedupe(list: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const v of list) if (!out.some((x) => scalarEqual(x, v))) out.push(v);
  return out;
}

/** `$patch` elements: delete by key, or replace the whole list with the patch's other elements. */
function withSpecialElements(orig: unknown[], patch: Obj[], mergeKey: string): [unknown[], Obj[]] {
  const plain: Obj[] = [];
  let replace = false;
  let out = orig;
  for (const v of patch) {
    if (!has(v, DIRECTIVE)) {
      plain.push(v);
      continue;
    }
    const d = v[DIRECTIVE];
    if (d === 'delete') {
      if (!has(v, mergeKey)) throw noMergeKey(v, mergeKey);
      const key = v[mergeKey];
      out = out.filter((o) => {
        if (!isObj(o)) throw rawError(`value for key ${out.indexOf(o)} is not a map.`);
        return !(has(o, mergeKey) && scalarEqual(o[mergeKey], key));
      });
    } else if (d === 'replace') {
      replace = true;
    } else if (d === 'merge') {
      throw rawError('merging lists cannot yet be specified in the patch');
    } else {
      throw rawError(`unknown patch type: ${goFmt(d)} in map: ${goFmt(v)}`);
    }
  }
  return replace ? [plain, []] : [out, plain];
}

function withoutSpecialElements(orig: unknown[], patch: Obj[], mergeKey: string, fs: FieldSchema): unknown[] {
  for (const v of patch) {
    if (!has(v, mergeKey)) throw noMergeKey(v, mergeKey);
    const key = v[mergeKey];
    const i = orig.findIndex((o) => isObj(o) && has(o, mergeKey) && scalarEqual(o[mergeKey], key));
    if (i >= 0) orig[i] = mergeMap(orig[i] as Obj, v, fs.schema);
    else orig.push(mergeMap({}, v, fs.schema));
  }
  return orig;
}

function partition(list: unknown[], by: unknown[], mergeKey: string, kind: ElemKind): [unknown[], unknown[]] {
  const inList: unknown[] = [];
  const rest: unknown[] = [];
  for (const v of list) {
    let found: boolean;
    if (kind === 'map' && mergeKey) {
      if (!isObj(v)) throw badArgType('map[string]interface {}', v);
      if (!has(v, mergeKey)) throw noMergeKey(v, mergeKey);
      found = by.some((b) => isObj(b) && has(b, mergeKey) && scalarEqual(b[mergeKey], v[mergeKey]));
    } else {
      found = by.some((b) => scalarEqual(b, v));
    }
    (found ? inList : rest).push(v);
  }
  return [inList, rest];
}

function indexIn(list: unknown[], v: unknown, mergeKey: string, kind: ElemKind): number {
  const val = (x: unknown): unknown => (kind === 'map' ? (isObj(x) ? own(x, mergeKey) : undefined) : x);
  const want = val(v);
  return list.findIndex((x) => scalarEqual(val(x), want) && want !== undefined);
}

/** Stable sort by position in `order`; items not in it keep their relative place at the end. */
function sortByOrder(items: unknown[], order: unknown[], mergeKey: string, kind: ElemKind): unknown[] {
  if (kind === 'map') {
    for (const l of [items, order])
      for (const it of l) {
        if (!isObj(it)) throw badArgType('map[string]interface {}', it);
        if (!has(it, mergeKey)) throw noMergeKey(it, mergeKey);
      }
  }
  return items
    .map((x, i) => ({ x, i, r: indexIn(order, x, mergeKey, kind) }))
    .sort((a, b) => (a.r < 0 || b.r < 0 ? (a.r < 0 ? 1 : 0) - (b.r < 0 ? 1 : 0) || a.i - b.i : a.r - b.r))
    .map((e) => e.x);
}

/** upstream normalizeElementOrder + mergeSortedSlice: interleave server-only items by the server order. */
function normalizeElementOrder(
  patchItems: unknown[],
  serverOnly: unknown[],
  patchOrder: unknown[],
  serverOrder: unknown[],
  mergeKey: string,
  kind: ElemKind,
): unknown[] {
  const right = sortByOrder(patchItems, patchOrder, mergeKey, kind);
  const left = sortByOrder(serverOnly, serverOrder, mergeKey, kind);
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexIn(serverOrder, left[i], mergeKey, kind);
      const ri = indexIn(serverOrder, right[j], mergeKey, kind);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

/** A value the patch adds where the original has none: directives processed, nulls dropped. */
function cleanValue(v: unknown, fs: FieldSchema): unknown {
  if (isObj(v)) return mergeMap({}, v, fs.schema);
  if (Array.isArray(v)) return cleanList(v, fs);
  return v;
}

function cleanList(list: unknown[], fs: FieldSchema): unknown[] {
  const out: unknown[] = [];
  for (const el of list) {
    if (isObj(el)) {
      if (has(el, DIRECTIVE)) continue;
      out.push(mergeMap({}, el, fs.schema));
    } else out.push(el);
  }
  return out;
}
