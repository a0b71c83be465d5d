/**
 * The resource table: every served group/version/resource and its strategy, plus the storage location
 * (a kind served from another resource's storage via `storedAs` shares that storage).
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

  constructor(strategies: readonly Strategy[]) {
    for (const strategy of strategies) {
      const { group, version, resource } = strategy.info;
      const served: Served = {
        strategy,
        gv: groupVersion(strategy.info),
        storageGroup: strategy.storedAs?.group ?? group,
        storageResource: strategy.storedAs?.resource ?? resource,
      };
      this.byGVR.set(`${group}/${version}/${resource}`, served);
      this.all.push(served);
      const vs = this.groups.get(group) ?? [];
      if (!vs.includes(version)) vs.push(version);
      this.groups.set(group, vs);
    }
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
