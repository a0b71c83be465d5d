/**
 * Field sets as server-side apply tracks them (sigs.k8s.io/structured-merge-diff "FieldsV1"):
 * `f:<field>` for map fields, `k:{"key":value}` for items of associative lists, `v:<value>` for items of
 * set lists, `.` for a list item itself. A path is a list of such tokens; a set is kept as JSON strings.
 */
import { isPlainObject } from '../api/object.ts';
import { KEY_DEFAULTS, listFacts } from './merge-keys.ts';
import { fieldOf, itemsOf, type SchemaPos } from './schema.ts';

export type Path = string[];
export type FieldSet = Set<string>;

type Obj = Record<string, unknown>;

const enc = (p: Path): string => JSON.stringify(p);
export const decodePath = (s: string): Path => JSON.parse(s) as Path;

/** JSON with object keys sorted, as the k: tokens are written. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (isPlainObject(v))
    return `{${Object.keys(v)
      .sort()
      .filter((k) => v[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson(v[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

export interface ListKind {
  kind: 'map' | 'set' | 'atomic';
  keys?: string[];
}

export function listKind(pos: SchemaPos, field: string): ListKind {
  const f = listFacts(pos.def, field);
  if (!f || !f.strategy.includes('merge')) return { kind: 'atomic' };
  if (!f.key) return { kind: 'set' };
  return { kind: 'map', keys: f.ssaKeys ?? [f.key] };
}

export function itemKey(el: Obj, keys: string[]): string {
  const k: Obj = {};
  for (const name of keys) {
    const v = el[name] ?? (keys.length > 1 ? KEY_DEFAULTS[name] : undefined);
    if (v !== undefined) k[name] = v;
  }
  return `k:${stableJson(k)}`;
}

/** Every leaf path of a value. */
export function fieldSet(value: Obj, pos: SchemaPos): FieldSet {
  const out: FieldSet = new Set();
  walkMap(value, pos, [], out);
  return out;
}

function walkMap(obj: Obj, pos: SchemaPos, path: Path, out: FieldSet): void {
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined) continue;
    const p = [...path, `f:${k}`];
    const child = fieldOf(pos, k);
    if (isPlainObject(v) && Object.keys(v).length > 0) walkMap(v, child, p, out);
    else if (Array.isArray(v)) walkList(v, listKind(pos, k), itemsOf(child), p, out);
    else out.add(enc(p));
  }
}

function walkList(arr: unknown[], kind: ListKind, item: SchemaPos, path: Path, out: FieldSet): void {
  if (kind.kind === 'map' && arr.every(isPlainObject)) {
    for (const el of arr as Obj[]) {
      const kp = [...path, itemKey(el, kind.keys!)];
      out.add(enc([...kp, '.']));
      walkMap(el, item, kp, out);
    }
  } else if (kind.kind === 'set' && arr.every((x) => !isPlainObject(x) && !Array.isArray(x))) {
    for (const el of arr) out.add(enc([...path, `v:${JSON.stringify(el)}`]));
  } else {
    out.add(enc(path));
  }
}

/** Sets ↔ FieldsV1 trees. */
export function toFieldsV1(set: FieldSet): Obj {
  const root: Obj = {};
  for (const s of set) {
    const p = decodePath(s);
    let node = root;
    for (const tok of p) {
      if (!isPlainObject(node[tok])) node[tok] = {};
      node = node[tok] as Obj;
    }
  }
  return root;
}

export function fromFieldsV1(tree: unknown): FieldSet {
  const out: FieldSet = new Set();
  const rec = (node: unknown, path: Path): void => {
    if (!isPlainObject(node)) return;
    for (const [k, v] of Object.entries(node)) {
      if (k === '.') out.add(enc([...path, '.']));
      else if (isPlainObject(v) && Object.keys(v).length > 0) rec(v, [...path, k]);
      else out.add(enc([...path, k]));
    }
  };
  rec(tree, []);
  return out;
}

/** The value at a path, if present. */
export function valueAt(root: unknown, path: Path): { found: boolean; value?: unknown } {
  let cur: unknown = root;
  for (const tok of path) {
    if (tok === '.') continue;
    if (tok.startsWith('f:')) {
      if (!isPlainObject(cur) || !(tok.slice(2) in cur)) return { found: false };
      cur = cur[tok.slice(2)];
    } else if (tok.startsWith('k:')) {
      if (!Array.isArray(cur)) return { found: false };
      const want = JSON.parse(tok.slice(2)) as Obj;
      const keys = Object.keys(want);
      const el = cur.find((e) => isPlainObject(e) && itemKey(e, keys) === tok);
      if (el === undefined) return { found: false };
      cur = el;
    } else if (tok.startsWith('v:')) {
      if (!Array.isArray(cur)) return { found: false };
      const want = tok.slice(2);
      const el = cur.find((e) => JSON.stringify(e) === want);
      if (el === undefined) return { found: false };
      cur = el;
    } else return { found: false };
  }
  return { found: true, value: cur };
}

/** Remove the field or list item a path names (no-op when absent). */
export function removeAt(root: Obj, path: Path): void {
  const p = path[path.length - 1] === '.' ? path.slice(0, -1) : path;
  if (!p.length) return;
  const parent = valueAt(root, p.slice(0, -1));
  if (!parent.found) return;
  const last = p[p.length - 1]!;
  const pv = parent.value;
  if (last.startsWith('f:') && isPlainObject(pv)) delete pv[last.slice(2)];
  else if ((last.startsWith('k:') || last.startsWith('v:')) && Array.isArray(pv)) {
    const idx = pv.findIndex((e) =>
      last.startsWith('k:')
        ? isPlainObject(e) && itemKey(e, Object.keys(JSON.parse(last.slice(2)) as Obj)) === last
        : JSON.stringify(e) === last.slice(2),
    );
    if (idx >= 0) pv.splice(idx, 1);
  }
}

/** The path rendered as kubectl shows it in conflicts: `.spec.replicas`, `.spec.containers[name="c"].image`. */
export function pathString(path: Path): string {
  let s = '';
  for (const tok of path) {
    if (tok === '.') continue;
    if (tok.startsWith('f:')) s += `.${tok.slice(2)}`;
    else if (tok.startsWith('k:')) {
      const k = JSON.parse(tok.slice(2)) as Obj;
      s += `[${Object.entries(k)
        .map(([a, b]) => `${a}=${JSON.stringify(b)}`)
        .join(',')}]`;
    } else if (tok.startsWith('v:')) s += `[=${tok.slice(2)}]`;
  }
  return s;
}
