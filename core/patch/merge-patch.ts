/**
 * RFC 7386 JSON Merge Patch (evanphx/json-patch MergePatch, as kube-apiserver uses it): objects merge
 * recursively, `null` deletes a key, everything else (arrays included) replaces; nulls inside values the
 * patch adds are dropped. A patch that is not an object is "Invalid JSON Patch" (400).
 */
import { errors } from '../api/status.ts';
import { assertDepth, clone, has, isObj, put, type Obj } from './util.ts';

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) throw errors.badRequest('Invalid JSON Patch');
  assertDepth(patch);
  assertDepth(target);
  return merge(isObj(target) ? clone(target) : {}, patch);
}

function merge(doc: Obj, patch: Obj): Obj {
  for (const k of Object.keys(patch)) {
    const v = patch[k];
    if (v === null) {
      delete doc[k];
    } else if (isObj(v) && has(doc, k) && isObj(doc[k])) {
      put(doc, k, merge(doc[k] as Obj, v));
    } else {
      put(doc, k, pruneNulls(clone(v)));
    }
  }
  return doc;
}

function pruneNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => (x === null ? x : pruneNulls(x)));
  if (isObj(v)) {
    for (const k of Object.keys(v)) {
      if (v[k] === null) delete v[k];
      else put(v, k, pruneNulls(v[k]));
    }
  }
  return v;
}
