/**
 * Namespace lifecycle controller: when a namespace is being deleted (phase Terminating, spec.finalizers
 * ["kubernetes"]), delete everything in it, then remove the "kubernetes" finalizer through the finalize
 * subresource, which lets the namespace go. Runs in-process through the API with its own identity.
 */
import type { KObject } from '../api/object.ts';
import { StatusError } from '../api/status.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';
import type { Watcher } from '../store/types.ts';

const NAMESPACES: ResourceRef = { group: '', version: 'v1', resource: 'namespaces' };

export class NamespaceController {
  private watcher?: Watcher;
  private readonly pending = new Set<string>();
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly client: InProcessClient,
    private readonly retryMs = 500,
  ) {}

  start(): void {
    this.watcher = this.client.watch(NAMESPACES, '', {}, (_type, ns) => {
      if (ns.metadata.deletionTimestamp) this.enqueue(ns.metadata.name ?? '');
    });
  }

  stop(): void {
    this.watcher?.stop();
    if (this.timer) clearTimeout(this.timer);
  }

  private enqueue(name: string): void {
    this.pending.add(name);
    if (!this.timer && !this.running) this.timer = setTimeout(() => void this.drain(), 0);
  }

  private async drain(): Promise<void> {
    this.timer = undefined;
    this.running = true;
    const retry: string[] = [];
    for (const name of [...this.pending]) {
      this.pending.delete(name);
      try {
        if (!this.sync(name)) retry.push(name);
      } catch (e) {
        if (!(e instanceof StatusError && e.code === 404)) retry.push(name);
      }
    }
    this.running = false;
    for (const n of retry) this.pending.add(n);
    if (this.pending.size && !this.timer) this.timer = setTimeout(() => void this.drain(), this.retryMs);
  }

  /** Returns true when the namespace is finished (or gone). */
  private sync(name: string): boolean {
    let ns: KObject;
    try {
      ns = this.client.get(NAMESPACES, '', name);
    } catch (e) {
      if (e instanceof StatusError && e.code === 404) return true;
      throw e;
    }
    if (!ns.metadata.deletionTimestamp) return true;
    let remaining = 0;
    for (const r of this.client.storageResources()) {
      if (!this.client.isNamespaced(r)) continue;
      const items = this.client.list(r, name).items;
      for (const item of items) {
        remaining++;
        if (item.metadata.deletionTimestamp) continue;
        try {
          this.client.delete(r, name, item.metadata.name ?? '', { propagationPolicy: 'Background' });
        } catch (e) {
          if (!(e instanceof StatusError && e.code === 404)) throw e;
        }
      }
    }
    if (remaining > 0) {
      // Check again: most deletions are immediate.
      const left = this.client
        .storageResources()
        .filter((r) => this.client.isNamespaced(r))
        .reduce((n, r) => n + this.client.list(r, name).items.length, 0);
      if (left > 0) return false;
    }
    const spec = (ns['spec'] ?? {}) as { finalizers?: string[] };
    if ((spec.finalizers ?? []).includes('kubernetes')) {
      const next = {
        ...ns,
        spec: { ...spec, finalizers: (spec.finalizers ?? []).filter((f) => f !== 'kubernetes') },
      };
      this.client.update(NAMESPACES, '', next, 'finalize');
    }
    return true;
  }
}
