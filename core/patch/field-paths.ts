/**
 * Field sets as server-side apply tracks them (sigs.k8s.io/structured-merge-diff, "FieldsV1"):
 * a path is a list of tokens — `f:<field>` for a map/struct field, `k:{"key":value}` for an item of an
 * associative list (listType=map), `v:<json>` for an item of a set list. The members of a set are the
 * leaves of an object (scalars, empty maps, atomic lists and structs) and every list item. In FieldsV1 a
 * member that also has members below it is written with a `.` child.
 */
import type { ListStrategy, SchemaNode } from './merge-keys.ts';
import { deepEqual, has, isObj, own, put, rawError, type Obj } from './util.ts';

export type Path = string[];
/** A set of paths, each encoded with encodePath. */
export type FieldSet = Set<string>;

export const encodePath = (p: Path): string => JSON.stringify(p);
export const decodePath = (s: string): Path => JSON.parse(s) as Path;

/** JSON with sorted object keys, as key tokens are written. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (isObj(v))
    return `{${Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(v[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

export type ListType = 'map' | 'set' | 'atomic';

export function listTypeOf(list: ListStrategy | undefined): ListType {
  return list?.listType ?? 'atomic';
}

/** The key token of an associative-list item, or an error message naming the missing key field. */
export function itemKey(el: Obj, list: ListStrategy): string | { missing: string } {
  const k: Obj = {};
  for (const name of list.listMapKeys ?? []) {
    const v = has(el, name)
      ? el[name]
      : list.keyDefaults && has(list.keyDefaults, name)
        ? list.keyDefaults[name]
        : undefined;
    if (v === undefined || v === null) return { missing: name };
    put(k, name, v);
  }
  return `k:${stableJson(k)}`;
}

export const valueToken = (v: unknown): string => `v:${stableJson(v)}`;

/** A typed-conversion error (apiserver returns these unwrapped; see rawError). */
export class TypedError extends Error {}

/** Every member path of a value, mapped to the value at that path. */
export function leaves(value: Obj, schema: SchemaNode): Map<string, unknown> {
  const out = new Map<string, unknown>();
  walkMap(value, schema, [], out);
  return out;
}

function walkMap(obj: Obj, schema: SchemaNode, path: Path, out: Map<string, unknown>): void {
  for (const k of Object.keys(obj)) {
    const v = obj[k];
    if (v === undefined || v === null) continue;
    const p = [...path, `f:${k}`];
    const fs = schema.field(k);
    if (Array.isArray(v)) walkList(v, fs.list, fs.schema, p, out);
    else if (isObj(v) && Object.keys(v).length > 0 && !fs.schema.atomic) walkMap(v, fs.schema, p, out);
    else out.set(encodePath(p), v);
  }
}

function walkList(
  arr: unknown[],
  list: ListStrategy | undefined,
  item: SchemaNode,
  path: Path,
  out: Map<string, unknown>,
): void {
  const type = listTypeOf(list);
  if (arr.length === 0 || type === 'atomic') {
    out.set(encodePath(path), arr);
    return;
  }
  const seen = new Set<string>();
  const where = path.map((t) => `.${t.slice(2)}`).join('');
  arr.forEach((el, i) => {
    let tok: string;
    if (type === 'map') {
      if (!isObj(el)) throw new TypedError(`${where}: element ${i}: expected map, got ${JSON.stringify(el)}`);
      const key = itemKey(el, list!);
      if (typeof key !== 'string')
        throw new TypedError(
          `${where}: element ${i}: associative list with keys has an element that omits key field "${key.missing}" (and doesn't have default value)`,
        );
      tok = key;
    } else {
      if (isObj(el) || Array.isArray(el)) throw new TypedError(`${where}: element ${i}: expected scalar`);
      tok = valueToken(el);
    }
    if (seen.has(tok)) throw new TypedError(`${where}: duplicate entries for key ${pathString([tok])}`);
    seen.add(tok);
    const p = [...path, tok];
    out.set(encodePath(p), el);
    if (type === 'map' && isObj(el)) walkMap(el, item, p, out);
  });
}

export function typedError(e: unknown, context: string): never {
  if (e instanceof TypedError) throw rawError(`${context}: ${e.message}`);
  throw e;
}

/** Sets ↔ FieldsV1 trees. */
export function toFieldsV1(set: Iterable<string>): Obj {
  const root: Obj = {};
  const paths = [...set].map(decodePath);
  for (const p of paths) {
    let n = root;
    for (const tok of p) {
      if (!isObj(own(n, tok))) put(n, tok, {});
      n = n[tok] as Obj;
    }
    n['.'] = n['.'] ?? 'member';
  }
  return finish(root);
}

/** Replace member markers: `.: {}` where the node has children, nothing where it has none; sort keys. */
function finish(n: Obj): Obj {
  const out: Obj = {};
  const member = has(n, '.');
  const keys = Object.keys(n)
    .filter((k) => k !== '.')
    .sort(compareTokens);
  if (member && keys.length) out['.'] = {};
  for (const k of keys) put(out, k, finish(n[k] as Obj));
  return out;
}

/** structured-merge-diff's PathElement order: field names, then keys, then values, then indices. */
const rank = (t: string): number =>
  t.startsWith('f:') ? 0 : t.startsWith('k:') ? 1 : t.startsWith('v:') ? 2 : 3;
export function compareTokens(a: string, b: string): number {
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

export function fromFieldsV1(tree: unknown): FieldSet {
  const out: FieldSet = new Set();
  const rec = (node: Obj, path: Path, depth: number): void => {
    if (depth > 200) return;
    for (const k of Object.keys(node)) {
      if (k === '.') {
        if (path.length) out.add(encodePath(path));
        continue;
      }
      const v = node[k];
      const p = [...path, k];
      if (isObj(v) && Object.keys(v).length > 0) rec(v, p, depth + 1);
      else out.add(encodePath(p));
    }
  };
  if (isObj(tree)) rec(tree, [], 0);
  return out;
}

/** The path rendered as Kubernetes prints it: `.spec.replicas`, `.spec.containers[name="c"].image`. */
export function pathString(path: Path): string {
  let s = '';
  for (const tok of path) {
    if (tok.startsWith('f:')) s += `.${tok.slice(2)}`;
    else if (tok.startsWith('k:')) {
      let k: unknown;
      try {
        k = JSON.parse(tok.slice(2));
      } catch {
        k = {};
      }
      s += `[${Object.entries(isObj(k) ? k : {})
        .map(([a, b]) => `${a}=${typeof b === 'string' ? JSON.stringify(b) : JSON.stringify(b)}`)
        .join(',')}]`;
    } else if (tok.startsWith('v:')) s += `[=${tok.slice(2)}]`;
    else if (tok.startsWith('i:')) s += `[${tok.slice(2)}]`;
  }
  return s;
}

/** Removes the member a path names from an object (no-op when absent). */
export function removeAt(root: Obj, path: Path, schema: SchemaNode): void {
  let cur: unknown = root;
  let node = schema;
  let list: ListStrategy | undefined;
  for (let i = 0; i < path.length; i++) {
    const tok = path[i]!;
    const last = i === path.length - 1;
    if (tok.startsWith('f:')) {
      if (!isObj(cur)) return;
      const name = tok.slice(2);
      if (last) {
        delete cur[name];
        return;
      }
      const fs = node.field(name);
      cur = own(cur, name);
      node = fs.schema;
      list = fs.list;
    } else if (Array.isArray(cur)) {
      const arr = cur;
      const idx = arr.findIndex((el) =>
        tok.startsWith('k:') ? isObj(el) && list && itemKey(el, list) === tok : valueToken(el) === tok,
      );
      if (idx < 0) return;
      if (last) {
        arr.splice(idx, 1);
        return;
      }
      cur = arr[idx];
      list = undefined;
    } else return;
  }
}

/** Values of two member maps compared: which members were added, removed, or changed value. */
export interface Comparison {
  added: FieldSet;
  removed: FieldSet;
  modified: FieldSet;
}

export function compare(oldLeaves: Map<string, unknown>, newLeaves: Map<string, unknown>): Comparison {
  const added: FieldSet = new Set();
  const removed: FieldSet = new Set();
  const modified: FieldSet = new Set();
  for (const [p, v] of newLeaves) {
    if (!oldLeaves.has(p)) added.add(p);
    else if (!isItem(p) && !deepEqual(oldLeaves.get(p), v)) modified.add(p);
  }
  for (const p of oldLeaves.keys()) if (!newLeaves.has(p)) removed.add(p);
  return { added, removed, modified };
}

/** Whether a path names a list item (whose own value is not compared; its fields are). */
export function isItem(p: string): boolean {
  const path = decodePath(p);
  const last = path[path.length - 1] ?? '';
  return last.startsWith('k:');
}

/** Whether `a` is a strict prefix of `b`. */
export function isPrefix(a: Path, b: Path): boolean {
  return a.length < b.length && a.every((t, i) => b[i] === t);
}

/** The value at a member path, or undefined. */
export function getAt(root: unknown, path: Path, schema: SchemaNode): unknown {
  let cur: unknown = root;
  let node = schema;
  let list: ListStrategy | undefined;
  for (const tok of path) {
    if (tok.startsWith('f:')) {
      if (!isObj(cur)) return undefined;
      const fs = node.field(tok.slice(2));
      cur = own(cur, tok.slice(2));
      node = fs.schema;
      list = fs.list;
    } else if (Array.isArray(cur)) {
      cur = cur.find((el) =>
        tok.startsWith('k:') ? isObj(el) && list && itemKey(el, list) === tok : valueToken(el) === tok,
      );
      list = undefined;
    } else return undefined;
  }
  return cur;
}
