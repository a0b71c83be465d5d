/**
 * The garbage collector (pkg/controller/garbagecollector semantics): follows ownerReferences across every
 * stored kind.
 * - Background: once every owner of an object is gone, the object is deleted.
 * - Orphan: an owner being deleted with the `orphan` finalizer first has its references removed from its
 *   dependents, then loses the finalizer (and goes).
 * - Foreground: an owner being deleted with `foregroundDeletion` has its dependents deleted; the finalizer
 *   is removed once no dependent with blockOwnerDeletion remains.
 * Owners are confirmed with a live read (by kind, name and uid) before a dependent is deleted.
 */
import type { KObject } from '../api/object.ts';
import { StatusError } from '../api/status.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';
import type { Watcher } from '../store/types.ts';

interface Node {
  ref: ResourceRef;
  namespace: string;
  name: string;
  uid: string;
  owners: { uid: string; apiVersion: string; kind: string; name: string; block: boolean }[];
  deleting: boolean;
  finalizers: string[];
}

export class GarbageCollector {
  private readonly nodes = new Map<string, Node>();
  private readonly dependents = new Map<string, Set<string>>();
  private readonly queue = new Set<string>();
  private readonly attempts = new Map<string, number>();
  /** One watch per stored resource (`group/version/resource`); custom resources come and go. */
  private readonly watchers = new Map<string, Watcher>();
  private unsubscribe?: () => void;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly client: InProcessClient,
    private readonly retryMs = 500,
  ) {}

  start(): void {
    this.watchResources();
    this.unsubscribe = this.client.onResourcesChanged(() => this.watchResources());
    this.schedule(0);
  }

  stop(): void {
    this.unsubscribe?.();
    for (const w of this.watchers.values()) w.stop();
    this.watchers.clear();
    if (this.timer) clearTimeout(this.timer);
  }

  /** Watches every stored resource not yet watched; stops watching those no longer served. */
  private watchResources(): void {
    const refs = new Map(
      this.client.storageResources().map((r) => [`${r.group}/${r.version}/${r.resource}`, r]),
    );
    for (const [key, w] of this.watchers)
      if (!refs.has(key)) {
        w.stop();
        this.watchers.delete(key);
      }
    for (const [key, ref] of refs)
      if (!this.watchers.has(key))
        this.watchers.set(
          key,
          this.client.watch(ref, '', { resourceVersion: '0' }, (type, obj) => this.observe(ref, type, obj)),
        );
  }

  private observe(ref: ResourceRef, type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KObject): void {
    const uid = obj.metadata.uid ?? '';
    if (!uid) return;
    const old = this.nodes.get(uid);
    for (const o of old?.owners ?? []) this.dependents.get(o.uid)?.delete(uid);
    if (type === 'DELETED') {
      this.nodes.delete(uid);
      const deps = this.dependents.get(uid);
      this.dependents.delete(uid);
      for (const d of deps ?? []) this.queue.add(d);
      for (const o of old?.owners ?? []) this.queue.add(o.uid);
    } else {
      const node: Node = {
        ref,
        namespace: obj.metadata.namespace ?? '',
        name: obj.metadata.name ?? '',
        uid,
        owners: (obj.metadata.ownerReferences ?? []).map((o) => ({
          uid: o.uid,
          apiVersion: o.apiVersion,
          kind: o.kind,
          name: o.name,
          block: o.blockOwnerDeletion === true,
        })),
        deleting: !!obj.metadata.deletionTimestamp,
        finalizers: obj.metadata.finalizers ?? [],
      };
      this.nodes.set(uid, node);
      for (const o of node.owners) {
        let set = this.dependents.get(o.uid);
        if (!set) this.dependents.set(o.uid, (set = new Set()));
        set.add(uid);
        this.queue.add(o.uid);
      }
      this.queue.add(uid);
    }
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (!this.timer) this.timer = setTimeout(() => this.drain(), ms);
  }

  private drain(): void {
    this.timer = undefined;
    const items = [...this.queue];
    this.queue.clear();
    const retry: string[] = [];
    for (const uid of items) {
      let done: boolean;
      try {
        done = this.process(uid);
      } catch {
        done = false; // conflicts and races resolve on a later pass
      }
      const n = (this.attempts.get(uid) ?? 0) + 1;
      if (done || n > 100) this.attempts.delete(uid);
      else {
        this.attempts.set(uid, n);
        retry.push(uid);
      }
    }
    for (const u of retry) this.queue.add(u);
    if (this.queue.size) this.schedule(this.retryMs);
  }

  /** Returns false to be retried later. */
  private process(uid: string): boolean {
    const node = this.nodes.get(uid);
    if (!node) return true;
    if (node.deleting && node.finalizers.includes('orphan')) return this.orphanDependents(node);
    if (node.deleting && node.finalizers.includes('foregroundDeletion'))
      return this.deleteDependentsFirst(node);
    if (node.owners.length && !node.deleting) return this.collectIfOwnersGone(node);
    return true;
  }

  private liveOwnerExists(node: Node, o: Node['owners'][number]): boolean {
    if (this.nodes.has(o.uid)) return true;
    const ref = this.client.resourceFor(o.apiVersion, o.kind);
    if (!ref) return false; // an owner of a kind we do not serve can never exist
    try {
      const live = this.client.get(ref, this.client.isNamespaced(ref) ? node.namespace : '', o.name);
      return live.metadata.uid === o.uid;
    } catch (e) {
      if (e instanceof StatusError && e.code === 404) return false;
      throw e;
    }
  }

  private collectIfOwnersGone(node: Node): boolean {
    if (node.owners.some((o) => this.liveOwnerExists(node, o))) return true;
    // Propagate foreground if the owner was deleted in the foreground (it waited for us).
    this.client.delete(node.ref, node.namespace, node.name, {
      propagationPolicy: 'Background',
      preconditions: { uid: node.uid },
    });
    return true;
  }

  private withFinalizerRemoved(node: Node, finalizer: string): void {
    const live = this.client.get(node.ref, node.namespace, node.name);
    const next = {
      ...live,
      metadata: {
        ...live.metadata,
        finalizers: (live.metadata.finalizers ?? []).filter((f) => f !== finalizer),
      },
    };
    this.client.update(node.ref, node.namespace, next);
  }

  private orphanDependents(node: Node): boolean {
    for (const d of [...(this.dependents.get(node.uid) ?? [])]) {
      const dep = this.nodes.get(d);
      if (!dep) continue;
      const live = this.client.get(dep.ref, dep.namespace, dep.name);
      const refs = (live.metadata.ownerReferences ?? []).filter((r) => r.uid !== node.uid);
      const meta = { ...live.metadata };
      if (refs.length) meta.ownerReferences = refs;
      else delete meta.ownerReferences;
      this.client.update(dep.ref, dep.namespace, { ...live, metadata: meta });
    }
    this.withFinalizerRemoved(node, 'orphan');
    return true;
  }

  private deleteDependentsFirst(node: Node): boolean {
    const deps = [...(this.dependents.get(node.uid) ?? [])]
      .map((d) => this.nodes.get(d))
      .filter((d): d is Node => !!d);
    for (const dep of deps) {
      if (dep.deleting) continue;
      const hasOwnDependents = (this.dependents.get(dep.uid)?.size ?? 0) > 0;
      try {
        this.client.delete(dep.ref, dep.namespace, dep.name, {
          propagationPolicy: hasOwnDependents ? 'Foreground' : 'Background',
          preconditions: { uid: dep.uid },
        });
      } catch (e) {
        if (!(e instanceof StatusError && (e.code === 404 || e.code === 409))) throw e;
      }
    }
    const blocking = deps.filter(
      (d) => d.owners.some((o) => o.uid === node.uid && o.block) && this.nodes.has(d.uid),
    );
    if (blocking.length) return false;
    this.withFinalizerRemoved(node, 'foregroundDeletion');
    return true;
  }
}
