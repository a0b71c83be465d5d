/**
 * The scheduler's per-node view (upstream's scheduler cache of NodeInfo): each node with the pods
 * assigned to it and the sums the filters and scorers read (allocatable, requests, non-zero requests,
 * pods per controller), updated as pods are added and removed instead of recomputed per scheduling cycle.
 * Pods may be assigned to a node the cache has not seen yet; such entries are not listed until it appears.
 */
import type { Node, Pod } from 'kubernetes-types/core/v1';
import { controllerUid, nodeAllocatable, type NodeInfo, podRequests, type Resources } from './plugins.ts';

interface Entry {
  info: NodeInfo & {
    allocatable: Resources;
    requested: Resources;
    nonZeroRequested: Resources;
    controllers: Map<string, number>;
  };
  /** Pod keys, parallel to info.pods. */
  keys: string[];
  known: boolean;
}

function addInto(into: Resources, r: Resources, sign: 1 | -1): void {
  for (const [k, v] of Object.entries(r)) {
    const n = (into[k] ?? 0) + sign * v;
    if (n === 0) delete into[k];
    else into[k] = n;
  }
}

export class NodeInfoCache {
  private readonly entries = new Map<string, Entry>();
  /** The known nodes in a stable order (rebuilt when a node comes or goes). */
  private order: NodeInfo[] | undefined;

  /** Every known node, in a stable order. */
  all(): readonly NodeInfo[] {
    if (!this.order) this.order = [...this.entries.values()].filter((e) => e.known).map((e) => e.info);
    return this.order;
  }

  get(name: string): NodeInfo | undefined {
    const e = this.entries.get(name);
    return e?.known ? e.info : undefined;
  }

  setNode(node: Node): void {
    const name = node.metadata?.name ?? '';
    const e = this.entry(name);
    e.info.node = node;
    e.info.allocatable = nodeAllocatable(node);
    if (!e.known) {
      e.known = true;
      this.order = undefined;
    }
  }

  removeNode(name: string): void {
    const e = this.entries.get(name);
    if (!e?.known) return;
    this.order = undefined;
    if (e.keys.length) e.known = false;
    else this.entries.delete(name);
  }

  addPod(nodeName: string, key: string, pod: Pod): void {
    const e = this.entry(nodeName);
    e.keys.push(key);
    e.info.pods.push(pod);
    addInto(e.info.requested, podRequests(pod), 1);
    addInto(e.info.nonZeroRequested, podRequests(pod, true), 1);
    const uid = controllerUid(pod);
    if (uid) e.info.controllers.set(uid, (e.info.controllers.get(uid) ?? 0) + 1);
  }

  removePod(nodeName: string, key: string): void {
    const e = this.entries.get(nodeName);
    const i = e ? e.keys.indexOf(key) : -1;
    if (!e || i < 0) return;
    const pod = e.info.pods[i]!;
    e.keys.splice(i, 1);
    e.info.pods.splice(i, 1);
    addInto(e.info.requested, podRequests(pod), -1);
    addInto(e.info.nonZeroRequested, podRequests(pod, true), -1);
    const uid = controllerUid(pod);
    if (uid) {
      const n = (e.info.controllers.get(uid) ?? 0) - 1;
      if (n > 0) e.info.controllers.set(uid, n);
      else e.info.controllers.delete(uid);
    }
    if (!e.known && !e.keys.length) this.entries.delete(nodeName);
  }

  private entry(name: string): Entry {
    let e = this.entries.get(name);
    if (!e) {
      e = {
        info: {
          node: { metadata: { name } },
          pods: [],
          allocatable: {},
          requested: {},
          nonZeroRequested: {},
          controllers: new Map(),
        },
        keys: [],
        known: false,
      };
      this.entries.set(name, e);
    }
    return e;
  }
}
