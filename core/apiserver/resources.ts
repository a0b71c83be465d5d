/**
 * The resource table: every served group/version/resource and its strategy, plus the storage location
 * (a kind served from another resource's storage via `storedAs` shares that storage). Built-in kinds
 * are fixed; custom resources are added and removed at runtime (setDynamic), with a change notification.
 */
import type { Strategy } from '../registry/types.ts';
import { groupVersion } from './names.ts';

export interface Served {
  strategy: Strategy;
  gv: string;
  storageGroup: string;
  storageResource: string;
}

export class ResourceTable {
  private readonly byGVR = new Map<string, Served>();
  /** Group → versions in preference order (first = preferred). */
  readonly groups = new Map<string, string[]>();
  readonly all: Served[] = [];

  private readonly fixed: readonly Strategy[];
  /** Resources added at runtime, by owner (a CustomResourceDefinition's name). */
  private readonly dynamic = new Map<string, readonly Strategy[]>();
  private readonly listeners = new Set<() => void>();

  constructor(strategies: readonly Strategy[]) {
    this.fixed = [...strategies];
    this.rebuild();
  }

  private rebuild(): void {
    this.byGVR.clear();
    this.groups.clear();
    this.all.splice(0);
    for (const strategy of [...this.fixed, ...[...this.dynamic.values()].flat()]) {
      const { group, version, resource } = strategy.info;
      const key = `${group}/${version}/${resource}`;
      if (this.byGVR.has(key)) continue; // a runtime resource never shadows a built-in one
      const served: Served = {
        strategy,
        gv: groupVersion(strategy.info),
        storageGroup: strategy.storedAs?.group ?? group,
        storageResource: strategy.storedAs?.resource ?? resource,
      };
      this.byGVR.set(key, served);
      this.all.push(served);
      const vs = this.groups.get(group) ?? [];
      if (!vs.includes(version)) vs.push(version);
      this.groups.set(group, vs);
    }
  }

  /**
   * Replaces the resources `owner` serves (preferred version first); an empty list removes them.
   * Listeners (discovery caches, OpenAPI, controllers watching every kind) hear of every change.
   */
  setDynamic(owner: string, strategies: readonly Strategy[]): void {
    if (!strategies.length && !this.dynamic.has(owner)) return;
    if (strategies.length) this.dynamic.set(owner, strategies);
    else this.dynamic.delete(owner);
    this.rebuild();
    for (const l of [...this.listeners]) {
      try {
        l();
      } catch {
        /* a listener's failure must not stop the others */
      }
    }
  }

  /** Calls `listener` after every runtime change; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  lookup(group: string, version: string, resource: string): Served | undefined {
    return this.byGVR.get(`${group}/${version}/${resource}`);
  }

  hasGroupVersion(group: string, version: string): boolean {
    return this.groups.get(group)?.includes(version) ?? false;
  }

  inGroupVersion(group: string, version: string): Served[] {
    return this.all.filter((s) => s.strategy.info.group === group && s.strategy.info.version === version);
  }

  /** Find the strategy serving a kind (first = preferred version). */
  byKind(group: string, kind: string): Served | undefined {
    return this.all.find((s) => s.strategy.info.group === group && s.strategy.info.kind === kind);
  }

  /** Storage-sharing siblings (e.g. core/v1 events ↔ events.k8s.io/v1 events). */
  sameStorage(s: Served): Served[] {
    return this.all.filter(
      (o) => o.storageGroup === s.storageGroup && o.storageResource === s.storageResource,
    );
  }
}
