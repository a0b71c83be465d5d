/**
 * Strategic Merge Patch for the built-in kinds (k8s.io/apimachinery/pkg/util/strategicpatch semantics):
 * maps merge, lists with a patch merge key merge element by element, primitive lists with strategy merge
 * are unions, other lists are replaced; the directives `$patch: replace|delete|merge`,
 * `$setElementOrder/<field>`, `$deleteFromPrimitiveList/<field>` and `$retainKeys` are honoured.
 */
import { deepCopy, isPlainObject } from '../api/object.ts';
import { errors, StatusError } from '../api/status.ts';
import { listFacts, type ListFacts } from './merge-keys.ts';
import { fieldOf, itemsOf, rootFor, type SchemaPos } from './schema.ts';

const DELETE = Symbol('delete');
type Obj = Record<string, unknown>;

const SET_ORDER = '$setElementOrder/';
const DELETE_FROM = '$deleteFromPrimitiveList/';

export function strategicMergePatch(
  original: unknown,
  patch: unknown,
  apiVersion: string,
  kind: string,
): unknown {
  if (!isPlainObject(patch))
    throw errors.badRequest('json: cannot unmarshal array into Go value of type map[string]interface {}');
  const out = mergeMap(isPlainObject(original) ? deepCopy(original) : {}, patch, rootFor(apiVersion, kind));
  return out === DELETE ? {} : out;
}

/** Whether a kind supports strategic merge patch: every built-in kind does. */
export function supportsStrategicMerge(apiVersion: string, kind: string): boolean {
  return rootFor(apiVersion, kind).node !== undefined;
}

function unprocessable(message: string): StatusError {
  return new StatusError(422, 'Invalid', message, { causes: [{ message }] });
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function mergeMap(orig: Obj, patch: Obj, pos: SchemaPos): Obj | typeof DELETE {
  const directive = patch['$patch'];
  if (directive !== undefined) {
    if (directive === 'delete') return DELETE;
    if (directive === 'replace') {
      const rest: Obj = {};
      for (const [k, v] of Object.entries(patch)) if (k !== '$patch') rest[k] = v;
      const clean = mergeMap({}, rest, pos);
      return clean;
    }
    if (directive !== 'merge') throw errors.badRequest(`Unknown patch type: ${String(directive)}`);
  }
  const result: Obj = { ...orig };
  if ('$retainKeys' in patch) {
    const keep = patch['$retainKeys'];
    if (!Array.isArray(keep) || keep.some((k) => typeof k !== 'string'))
      throw errors.badRequest('invalid patch: the value of $retainKeys must be a list of strings');
    for (const k of Object.keys(patch))
      if (!k.startsWith('$') && !keep.includes(k) && patch[k] !== null)
        throw unprocessable('The patch content is not match the value of retainKeys');
    for (const k of Object.keys(result)) if (!keep.includes(k)) delete result[k];
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys' || key.startsWith(SET_ORDER)) continue;
    if (key.startsWith(DELETE_FROM)) {
      const field = key.slice(DELETE_FROM.length);
      if (!Array.isArray(value))
        throw errors.badRequest('invalid patch: $deleteFromPrimitiveList must be a list');
      const cur = result[field];
      if (Array.isArray(cur)) result[field] = cur.filter((x) => !value.some((d) => sameValue(d, x)));
      continue;
    }
    if (value === null) {
      delete result[key];
      continue;
    }
    const child = fieldOf(pos, key);
    const cur = result[key];
    if (isPlainObject(value)) {
      const merged = mergeMap(isPlainObject(cur) ? cur : {}, value, child);
      if (merged === DELETE) delete result[key];
      else result[key] = merged;
    } else if (Array.isArray(value)) {
      result[key] = mergeList(Array.isArray(cur) ? cur : [], value, listFacts(pos.def, key), itemsOf(child));
    } else {
      result[key] = value;
    }
  }
  for (const [key, order] of Object.entries(patch)) {
    if (!key.startsWith(SET_ORDER)) continue;
    const field = key.slice(SET_ORDER.length);
    if (!Array.isArray(order)) throw errors.badRequest('invalid patch: $setElementOrder must be a list');
    const cur = result[field];
    if (Array.isArray(cur)) result[field] = applyOrder(cur, order, listFacts(pos.def, field));
  }
  return result;
}

function stripDirectivesFromList(list: unknown[], item: SchemaPos): unknown[] {
  const out: unknown[] = [];
  for (const el of list) {
    if (isPlainObject(el)) {
      if (el['$patch'] !== undefined && Object.keys(el).length === 1) continue;
      const m = mergeMap({}, el, item);
      if (m !== DELETE) out.push(m);
    } else out.push(el);
  }
  return out;
}

function mergeList(
  orig: unknown[],
  patch: unknown[],
  facts: ListFacts | undefined,
  item: SchemaPos,
): unknown[] {
  const replaceAll = patch.some(
    (el) => isPlainObject(el) && el['$patch'] === 'replace' && Object.keys(el).length === 1,
  );
  if (!facts || !facts.strategy.includes('merge') || replaceAll) return stripDirectivesFromList(patch, item);
  if (!facts.key) {
    // A set of primitives: union, in order.
    const out = [...orig];
    for (const el of patch) {
      if (isPlainObject(el)) throw errors.badRequest('invalid patch: a primitive list may not contain maps');
      if (!out.some((x) => sameValue(x, el))) out.push(el);
    }
    return out;
  }
  const key = facts.key;
  const out: unknown[] = orig.map((x) => x);
  for (const el of patch) {
    if (!isPlainObject(el))
      throw errors.badRequest(`invalid patch: elements of a list merged by "${key}" must be maps`);
    if (!(key in el)) {
      throw errors.badRequest(`map: ${JSON.stringify(el)} does not contain declared merge key: ${key}`);
    }
    const idx = out.findIndex((o) => isPlainObject(o) && sameValue(o[key], el[key]));
    if (el['$patch'] === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    const base = idx >= 0 && isPlainObject(out[idx]) && el['$patch'] !== 'replace' ? (out[idx] as Obj) : {};
    const merged = mergeMap(base, el['$patch'] === 'replace' ? withoutDirective(el) : el, item);
    if (merged === DELETE) {
      if (idx >= 0) out.splice(idx, 1);
    } else if (idx >= 0) out[idx] = merged;
    else out.push(merged);
  }
  return out;
}

function withoutDirective(el: Obj): Obj {
  const c = { ...el };
  delete c['$patch'];
  return c;
}

/** $setElementOrder: patch-ordered items in that order; server-only items keep their place after their predecessor. */
function applyOrder(list: unknown[], order: unknown[], facts: ListFacts | undefined): unknown[] {
  const key = facts?.key;
  const ident = (x: unknown): string => JSON.stringify(key && isPlainObject(x) ? x[key] : x);
  const rank = new Map<string, number>();
  order.forEach((o, i) => rank.set(ident(o), i));
  let last = -1;
  const ranked = list.map((x, i) => {
    const r = rank.get(ident(x));
    if (r !== undefined) last = r;
    return { x, r: r ?? last + 0.5, i };
  });
  ranked.sort((a, b) => a.r - b.r || a.i - b.i);
  return ranked.map((e) => e.x);
}
