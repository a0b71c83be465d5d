/** Binds the patch engines (core/patch) to the REST handlers, and managed fields to every write. */
import type { KObject } from '../api/object.ts';
import { isPlainObject } from '../api/object.ts';
import { errors } from '../api/status.ts';
import { jsonPatch } from '../patch/json-patch.ts';
import { mergePatch } from '../patch/merge-patch.ts';
import { strategicMergePatch } from '../patch/strategic-merge.ts';
import { serverSideApply } from '../patch/apply.ts';
import { updateManagedFieldsForUpdate } from '../patch/managed-fields.ts';
import type { FieldManager } from './generic-registry.ts';
import type { Patcher } from './resource-handlers.ts';

function asObject(v: unknown): KObject {
  if (!isPlainObject(v)) throw errors.badRequest('the patch produced a value that is not an object');
  return v as KObject;
}

export function createPatcher(): Patcher {
  return {
    patch(type, current, patch, s, opts) {
      const info = s.strategy.info;
      switch (type) {
        case 'application/json-patch+json':
          return asObject(jsonPatch(current ?? {}, patch));
        case 'application/merge-patch+json':
          return asObject(mergePatch(current ?? {}, patch));
        case 'application/strategic-merge-patch+json':
          return asObject(strategicMergePatch(current ?? {}, patch, s.gv, info.kind));
        case 'application/apply-patch+yaml':
          return serverSideApply(current, patch, {
            manager: opts.fieldManager,
            force: opts.force,
            apiVersion: s.gv,
            kind: info.kind,
            now: opts.now,
            subresource: opts.subresource,
            gr: { group: info.group, resource: info.resource },
            name:
              current?.metadata.name ??
              (isPlainObject(patch) && isPlainObject(patch['metadata'])
                ? String(patch['metadata']['name'] ?? '')
                : ''),
          });
      }
    },
  };
}

export function createFieldManager(): FieldManager {
  return {
    update(oldObj, newObj, manager, apiVersion, now, subresource) {
      updateManagedFieldsForUpdate(oldObj, newObj, manager, apiVersion, now, subresource);
    },
  };
}
