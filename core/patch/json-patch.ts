/**
 * RFC 6902 JSON Patch, as kube-apiserver applies it (evanphx/json-patch): add, remove, replace, move, copy,
 * test; `~0`/`~1` escapes; `-` appends; negative indices count from the end.
 *
 * Errors as apiserver pkg/endpoints/handlers/patch.go reports them:
 * - a body that does not decode as a patch → 400 BadRequest with the decoder's message;
 * - more than 10000 operations → 413;
 * - any failure while applying (failed test, missing path, unknown op, …) →
 *   errors.NewGenericServerResponse(422): reason Invalid, message "the server rejected our request due to
 *   an error in our request", no causes (kubectl prints "The request is invalid: …").
 */
import { errors, StatusError } from '../api/status.ts';
import {
  assertDepth,
  clone,
  deepEqual,
  genericUnprocessable,
  has,
  isObj,
  jsonKind,
  own,
  put,
  type Obj,
} from './util.ts';

export const MAX_JSON_PATCH_OPERATIONS = 10000;

class PatchFailure extends Error {}

export function jsonPatch(doc: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) {
    throw errors.badRequest(
      `json: cannot unmarshal ${jsonKind(patch)} into Go value of type jsonpatch.Patch`,
    );
  }
  for (const op of patch) {
    if (op !== null && !isObj(op))
      throw errors.badRequest(
        `json: cannot unmarshal ${jsonKind(op)} into Go value of type jsonpatch.Operation`,
      );
  }
  if (patch.length > MAX_JSON_PATCH_OPERATIONS)
    throw new StatusError(
      413,
      'RequestEntityTooLarge',
      `Request entity too large: The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${patch.length}`,
    );
  assertDepth(patch);
  assertDepth(doc);
  // The document is wrapped so that the root ("") is an ordinary child.
  const root: Obj = { v: clone(doc) };
  try {
    for (const op of patch as (Obj | null)[]) apply(root, op ?? {});
  } catch (e) {
    if (e instanceof PatchFailure) throw genericUnprocessable();
    throw e;
  }
  return root['v'];
}

function fail(message: string): never {
  throw new PatchFailure(message);
}

function parsePointer(p: unknown, what: string): string[] {
  if (typeof p !== 'string') fail(`${what} missing`);
  if (p === '') return [];
  if (!p.startsWith('/')) fail(`invalid pointer ${p}`);
  return p
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Parent container and final token for a pointer (root wrapper makes "" → {v}, "v"). */
function locate(root: Obj, tokens: string[]): { parent: Obj | unknown[]; key: string } {
  let cur: unknown = root;
  const path = ['v', ...tokens];
  for (let i = 0; i < path.length - 1; i++) {
    cur = child(cur, path[i]!);
    if (cur === undefined) fail('doc is missing path');
  }
  if (!isObj(cur) && !Array.isArray(cur)) fail('doc is missing path');
  return { parent: cur, key: path[path.length - 1]! };
}

function index(arr: unknown[], key: string, forInsert: boolean): number {
  if (!/^-?(0|[1-9][0-9]*)$/.test(key)) fail(`invalid index ${key}`);
  let i = Number(key);
  const max = forInsert ? arr.length : arr.length - 1;
  if (i < 0) {
    if (-i > arr.length) fail(`index out of bounds ${key}`);
    i += arr.length;
  }
  if (i > max) fail(`index out of bounds ${key}`);
  return i;
}

function child(cur: unknown, key: string): unknown {
  if (isObj(cur)) return own(cur, key);
  if (Array.isArray(cur)) {
    if (key === '-') return undefined;
    if (!/^-?(0|[1-9][0-9]*)$/.test(key)) return undefined;
    let i = Number(key);
    if (i < 0) i += cur.length;
    return i >= 0 && i < cur.length ? cur[i] : undefined;
  }
  return undefined;
}

function get(root: Obj, tokens: string[]): unknown {
  const { parent, key } = locate(root, tokens);
  if (Array.isArray(parent)) return parent[index(parent, key, false)];
  if (!has(parent, key)) fail('missing value');
  return parent[key];
}

function add(root: Obj, tokens: string[], value: unknown): void {
  const { parent, key } = locate(root, tokens);
  if (Array.isArray(parent)) {
    if (key === '-') parent.push(value);
    else parent.splice(index(parent, key, true), 0, value);
  } else put(parent, key, value);
}

function remove(root: Obj, tokens: string[]): unknown {
  const { parent, key } = locate(root, tokens);
  if (Array.isArray(parent)) return parent.splice(index(parent, key, false), 1)[0];
  if (!has(parent, key)) fail(`Unable to remove nonexistent key: ${key}: missing value`);
  const v = parent[key];
  delete parent[key];
  return v;
}

function value(op: Obj): unknown {
  if (!has(op, 'value')) fail('missing value');
  return clone(op['value']);
}

function apply(root: Obj, op: Obj): void {
  const kind = own(op, 'op');
  switch (kind) {
    case 'add':
      return add(root, parsePointer(own(op, 'path'), 'add operation'), value(op));
    case 'remove':
      remove(root, parsePointer(own(op, 'path'), 'remove operation'));
      return;
    case 'replace': {
      const tokens = parsePointer(own(op, 'path'), 'replace operation');
      const { parent, key } = locate(root, tokens);
      const v = value(op);
      if (Array.isArray(parent)) parent[index(parent, key, false)] = v;
      else {
        if (!has(parent, key)) fail('replace operation does not apply: doc is missing key');
        put(parent, key, v);
      }
      return;
    }
    case 'move': {
      const from = parsePointer(own(op, 'from'), 'move operation');
      const to = parsePointer(own(op, 'path'), 'move operation');
      if (to.length > from.length && from.every((t, i) => to[i] === t)) fail('move into its own child');
      add(root, to, remove(root, from));
      return;
    }
    case 'copy': {
      const from = parsePointer(own(op, 'from'), 'copy operation');
      const to = parsePointer(own(op, 'path'), 'copy operation');
      return add(root, to, clone(get(root, from)));
    }
    case 'test': {
      const tokens = parsePointer(own(op, 'path'), 'test operation');
      const want = has(op, 'value') ? op['value'] : null;
      let got: unknown;
      try {
        got = get(root, tokens);
      } catch (e) {
        if (!(e instanceof PatchFailure)) throw e;
        got = undefined;
      }
      if (got === undefined ? want === null : deepEqual(got, want)) return;
      fail('test failed');
      return;
    }
    default:
      fail(`Unexpected kind: ${String(kind)}`);
  }
}
