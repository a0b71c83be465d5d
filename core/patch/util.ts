/** Small helpers shared by the patch engines: safe own-property access, Go-style formatting, errors. */
import { StatusError } from '../api/status.ts';

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An own property (never something inherited such as `__proto__` or `constructor`). */
export function own(o: Obj, k: string): unknown {
  return Object.hasOwn(o, k) ? o[k] : undefined;
}

export function has(o: Obj, k: string): boolean {
  return Object.hasOwn(o, k);
}

/** Set an own data property, even for keys such as `__proto__`. */
export function put(o: Obj, k: string, v: unknown): void {
  if (k === '__proto__')
    Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  else o[k] = v;
}

/** A shallow copy with own properties only. */
export function copyObj(o: Obj): Obj {
  const out: Obj = {};
  for (const k of Object.keys(o)) put(out, k, o[k]);
  return out;
}

/** A deep copy of a JSON value (iterative-safe up to MAX_DEPTH; see assertDepth). */
export function clone<T>(v: T): T {
  if (Array.isArray(v)) return v.map(clone) as T;
  if (isObj(v)) {
    const out: Obj = {};
    for (const k of Object.keys(v)) put(out, k, clone(v[k]));
    return out as T;
  }
  return v;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => has(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/**
 * Nesting limit for documents the patch engines accept (Go's decoder allows 10000; we stop earlier so the
 * recursive engines can never overflow the stack). Real objects nest a few dozen levels at most.
 */
export const MAX_DEPTH = 1000;

/** Throws a 400 when a value nests deeper than MAX_DEPTH (checked without recursion). */
export function assertDepth(v: unknown, max = MAX_DEPTH): void {
  const stack: [unknown, number][] = [[v, 1]];
  while (stack.length) {
    const [x, d] = stack.pop()!;
    if (typeof x !== 'object' || x === null) continue;
    if (d > max) throw new StatusError(400, 'BadRequest', 'json: exceeded max depth');
    for (const c of Array.isArray(x) ? x : Object.values(x))
      if (typeof c === 'object' && c !== null) stack.push([c, d + 1]);
  }
}

/** The Go type a JSON value decodes to in a map[string]interface{} (for error messages and type checks). */
export function goType(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return '[]interface {}';
  if (typeof v === 'object') return 'map[string]interface {}';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int64' : 'float64';
  return typeof v;
}

/** The JSON kind name Go's decoder uses in "cannot unmarshal X into …" messages. */
export function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'object';
  return typeof v === 'boolean' ? 'bool' : typeof v === 'number' ? 'number' : 'string';
}

/** Go's %v of a decoded JSON value: map[a:1 b:x], [1 2], <nil>. */
export function goFmt(v: unknown, depth = 0): string {
  if (depth > 50) return '...';
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map((x) => goFmt(x, depth + 1)).join(' ')}]`;
  if (typeof v === 'object') {
    const o = v as Obj;
    return `map[${Object.keys(o)
      .sort()
      .map((k) => `${k}:${goFmt(o[k], depth + 1)}`)
      .join(' ')}]`;
  }
  return String(v);
}

/**
 * An error kube-apiserver passes on unwrapped (a plain Go error from strategicpatch or the SSA type
 * converter). Upstream that becomes a 500 with an empty reason; Berth keeps the upstream text but answers
 * 400 BadRequest, because the cause is always the request and Berth promises never to 5xx on bad input
 * (e2e/bad-input.test.ts). Flip RAW_ERROR_AS_UPSTREAM to get the exact upstream status.
 */
export const RAW_ERROR_AS_UPSTREAM = false;
export function rawError(message: string): StatusError {
  return RAW_ERROR_AS_UPSTREAM
    ? new StatusError(500, '', message)
    : new StatusError(400, 'BadRequest', message);
}

/** errors.NewGenericServerResponse(422, …): reason Invalid with a fixed message (the detail is not kept). */
export function genericUnprocessable(): StatusError {
  return new StatusError(
    422,
    'Invalid',
    'the server rejected our request due to an error in our request',
    {},
  );
}
