/**
 * The object store contract. One SQLite database per cluster; a single global, monotonically increasing
 * revision that is every object's metadata.resourceVersion. Keys look like
 * `/<group or "core">/<resource>/<namespace or "">/<name>`; a prefix ending in "/" selects a collection.
 */
import type { KObject } from '../api/object.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: WatchEventType;
  key: string;
  /** The revision of this change. */
  rv: number;
  /** The object after the change (for DELETED: the last state, with resourceVersion = rv of the delete). */
  object: KObject;
  /** The object before the change (MODIFIED/DELETED), for selector transitions in watches. */
  prevObject?: KObject;
}

export interface ListOptions {
  /** Return at most this many items; a continue token is returned when more remain. */
  limit?: number;
  /** Opaque token from a previous page (carries the list revision and the last key). */
  continue?: string;
  /** Read the collection as of this revision (must not be compacted); default: current. */
  atRevision?: number;
  /** Filter applied before limit counting (label/field selectors). */
  filter?: (obj: KObject) => boolean;
}

export interface ListResult {
  items: KObject[];
  /** The revision the list was read at. */
  revision: number;
  continue?: string;
  remainingItemCount?: number;
}

export interface WatchOptions {
  /** Send events with rv > fromRevision. If older than the compacted revision → throws Expired (410). */
  fromRevision: number;
  filter?: (ev: StoreEvent) => boolean;
}

export interface Watcher {
  stop(): void;
}

export interface StoreStats {
  revision: number;
  compactedRevision: number;
  objects: number;
  historyRows: number;
}

export interface Store {
  /** The latest committed revision. */
  revision(): number;
  /** The oldest revision still available for watch/list-at-revision. */
  compactedRevision(): number;

  get(key: string): KObject | undefined;
  /** Get an object as it was at a revision (reads history; throws Expired if compacted). */
  getAt(key: string, revision: number): KObject | undefined;

  /** Create; throws a StatusError-compatible `StoreConflict('exists')` if the key exists. Returns stored object. */
  create(key: string, obj: KObject): KObject;
  /**
   * Compare-and-swap update: if expectedRevision is given and differs from the stored object's revision,
   * throws StoreConflict('modified'). Throws StoreConflict('missing') if the key does not exist.
   */
  update(key: string, obj: KObject, expectedRevision?: number): KObject;
  /** Delete; with expectedRevision, CAS as update. Returns the deleted object stamped with the delete revision. */
  delete(key: string, expectedRevision?: number): KObject;

  list(prefix: string, opts?: ListOptions): ListResult;
  /** Count of objects under a prefix (for quota and stats). */
  count(prefix: string): number;

  /** Register a watcher; events for keys under prefix with rv > fromRevision are delivered in order. */
  watch(prefix: string, opts: WatchOptions, onEvent: (ev: StoreEvent) => void): Watcher;

  /**
   * Group commit for one synchronous stretch of in-process writes: the writes fn makes (create, update,
   * delete; each still atomic on its own, a failed one leaves the others) share one transaction and one
   * fsync. Each returns as usual, but no watcher hears of any of them before the commit; then their
   * events are fanned out in revision order. If fn throws, what it wrote is still committed and the
   * error rethrown. Nested calls join the outer batch. Returns fn's result.
   */
  batch<T>(fn: () => T): T;

  /** Every retained revision of one key, oldest first (the time-travel view). */
  history(key: string): StoreEvent[];

  /** Drop history older than the retention; returns the new compacted revision. */
  compact(): number;

  stats(): StoreStats;
  close(): void;
}

export type StoreConflictKind = 'exists' | 'missing' | 'modified';

/** Thrown by the store; the registry turns it into the right Kubernetes Status. */
export class StoreConflict extends Error {
  constructor(
    readonly kind: StoreConflictKind,
    readonly key: string,
  ) {
    super(`store: ${kind}: ${key}`);
    this.name = 'StoreConflict';
  }
}

/** Thrown when a revision has been compacted away (→ 410 Expired "too old resource version"). */
export class StoreCompacted extends Error {
  constructor(
    readonly requested: number,
    readonly compacted: number,
  ) {
    super(`too old resource version: ${requested} (${compacted})`);
    this.name = 'StoreCompacted';
  }
}

export interface StoreOptions {
  /** Path to the SQLite file; ':memory:' for tests. */
  path: string;
  /** Keep at most this many history rows beyond the live objects (default 100000). */
  historyLimit?: number;
  /** Keep history for at least this many seconds regardless of historyLimit (default 300). */
  historyMinAgeSeconds?: number;
  /**
   * Optional value transformer (encryption at rest for secrets). encode/decode see the key so they can
   * choose per resource.
   */
  transformer?: {
    encode(key: string, json: string): Buffer | string;
    decode(key: string, stored: Buffer | string): string;
  };
}
