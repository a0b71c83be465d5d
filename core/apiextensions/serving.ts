/**
 * Serves custom resources: follows the stored CustomResourceDefinitions and, for each Established one,
 * puts a Strategy per served version (preferred first) into the server's ResourceTable, so REST,
 * discovery, OpenAPI and every controller that lists "all kinds" see them; removes them when the CRD
 * goes. Also prunes unknown fields of custom resources at decode (the FieldValidator hook).
 */
import type { KObject } from '../api/object.ts';
import type { GenericRegistry } from '../apiserver/generic-registry.ts';
import type { FieldValidator } from '../apiserver/resource-handlers.ts';
import type { ResourceTable, Served } from '../apiserver/resources.ts';
import type { Watcher } from '../store/types.ts';
import { customResourceSchema, customResourceStrategy } from './custom-resource-strategy.ts';
import { pruneCustomResource } from './prune.ts';
import {
  conditionOf,
  CRD_GROUP,
  CRD_RESOURCE,
  isEstablished,
  type CustomResourceDefinition,
} from './types.ts';
import { compareVersionPriority } from './version-priority.ts';

export class CustomResourceServing {
  private watcher?: Watcher;
  /** CRD name → what its served strategies were built from (skips rebuilding on status-only writes). */
  private readonly built = new Map<string, string>();
  private readonly terminating = new Set<string>();

  constructor(
    private readonly registry: GenericRegistry,
    private readonly table: ResourceTable,
  ) {}

  /** Starts following CRDs (serving the established ones at once); false when CRDs are not served. */
  start(): boolean {
    const crds = this.table.lookup(CRD_GROUP, 'v1', CRD_RESOURCE);
    if (!crds) return false;
    this.watcher = this.registry.watch(crds, '', {}, (type, obj) =>
      this.sync(type, obj as CustomResourceDefinition),
    );
    return true;
  }

  stop(): void {
    this.watcher?.stop();
  }

  private sync(type: 'ADDED' | 'MODIFIED' | 'DELETED', crd: CustomResourceDefinition): void {
    const name = crd.metadata.name ?? '';
    const deleting = !!crd.metadata.deletionTimestamp || conditionOf(crd, 'Terminating')?.status === 'True';
    if (deleting) this.terminating.add(name);
    else this.terminating.delete(name);
    if (type === 'DELETED' || !isEstablished(crd)) {
      this.built.delete(name);
      this.terminating.delete(name);
      this.table.setDynamic(name, []);
      return;
    }
    const signature = JSON.stringify([crd.spec, crd.status?.acceptedNames]);
    if (this.built.get(name) === signature) return;
    this.built.set(name, signature);
    const storage = crd.spec.versions.find((v) => v.storage)?.name;
    const served = crd.spec.versions
      .filter((v) => v.served)
      .sort((a, b) => compareVersionPriority(a.name, b.name));
    this.table.setDynamic(
      name,
      served.map((v) =>
        customResourceStrategy(crd, v, {
          ...(storage ? { storageVersion: storage } : {}),
          terminating: () => this.terminating.has(name),
        }),
      ),
    );
  }
}

/**
 * The decoder's field validation, extended to custom resources: their unknown fields are pruned and
 * reported (`unknown field "spec.foo"`); every other kind goes to `base`.
 */
export function withCustomResourcePruning(base: FieldValidator | undefined): FieldValidator {
  return {
    check(s: Served, obj: KObject) {
      const schema = customResourceSchema(s.strategy);
      if (schema)
        return {
          unknown: pruneCustomResource(obj, schema).map((p) => `unknown field "${p}"`),
          invalid: [],
        };
      return base ? base.check(s, obj) : { unknown: [], invalid: [] };
    },
  };
}
