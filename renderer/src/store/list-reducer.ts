/**
 * The pure list/watch reducer behind every live list. Input: batches of WatchEvents for one
 * subscription (core/gui/watch.ts sends SYNC first, then ADDED/MODIFIED/DELETED/BOOKMARK/ERROR, and a
 * new SYNC after a relist). Output: a new immutable state; the input state is never mutated, and a
 * batch that changes nothing returns the very same state object (so views do not re-render).
 *
 * Ordering: resourceVersions are opaque strings in Kubernetes, but a single server's are ordered
 * integers (etcd revisions; here the store's global revision). When both sides are decimal integers,
 * an event no newer than the last SYNC, or than the object already held, is a replay and is dropped.
 * Non-numeric versions are never compared (the event is applied, as client-go does).
 *
 * 410 Gone: an ERROR with code 410 marks the state stale (items stay visible) until the next SYNC.
 */
import type { KubeObject, KubeStatus, WatchEvent } from '../../../electron/contract.ts';

export interface ListState {
  /** Items by key (namespace/name). */
  readonly items: ReadonlyMap<string, KubeObject>;
  /** Highest resourceVersion seen (SYNC, events, bookmarks). */
  readonly resourceVersion: string;
  /** The resourceVersion of the last SYNC. */
  readonly listResourceVersion: string;
  /** True after the first SYNC. */
  readonly synced: boolean;
  /** True after a 410 Gone until the next SYNC. */
  readonly stale: boolean;
  /** The last non-410 watch error, cleared by the next SYNC or change. */
  readonly error: KubeStatus | undefined;
  /** Increments whenever `items` changes. */
  readonly revision: number;
}

export const initialListState: ListState = Object.freeze({
  items: new Map<string, KubeObject>(),
  resourceVersion: '',
  listResourceVersion: '',
  synced: false,
  stale: false,
  error: undefined,
  revision: 0,
});

export function objectKey(o: KubeObject): string {
  const ns = o.metadata.namespace ?? '';
  return ns ? `${ns}/${o.metadata.name ?? ''}` : (o.metadata.name ?? '');
}

const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** <0, 0, >0 when both are decimal integers; undefined when they cannot be compared. */
export function compareResourceVersions(a: string | undefined, b: string | undefined): number | undefined {
  if (!a || !b || !DECIMAL.test(a) || !DECIMAL.test(b)) return undefined;
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

function newer(a: string | undefined, b: string): string {
  if (!a) return b;
  const c = compareResourceVersions(a, b);
  return c === undefined ? a : c > 0 ? a : b;
}

/** Applies one batch of events. */
export function reduceList(state: ListState, events: readonly WatchEvent[]): ListState {
  let items: Map<string, KubeObject> | undefined; // copied on first write
  let { resourceVersion, listResourceVersion, synced, stale, error, revision } = state;
  let changed = false;
  const current = (): ReadonlyMap<string, KubeObject> => items ?? state.items;

  for (const ev of events) {
    switch (ev.type) {
      case 'SYNC': {
        if (ev.continued && synced) {
          // A later page of the same list: add to what the first page(s) brought.
          items ??= new Map(state.items);
          for (const o of ev.items) items.set(objectKey(o), o);
        } else items = new Map(ev.items.map((o) => [objectKey(o), o]));
        resourceVersion = ev.resourceVersion;
        listResourceVersion = ev.resourceVersion;
        synced = true;
        stale = false;
        error = undefined;
        changed = true;
        revision++;
        break;
      }
      case 'ADDED':
      case 'MODIFIED':
      case 'DELETED': {
        if (!synced) break; // nothing to apply events to before the first list
        const o = ev.object;
        const rv = o.metadata.resourceVersion;
        if ((compareResourceVersions(rv, listResourceVersion) ?? 1) <= 0) break; // already in the list
        const key = objectKey(o);
        const held = current().get(key);
        if (held && (compareResourceVersions(rv, held.metadata.resourceVersion) ?? 1) <= 0) break; // replay
        if (ev.type === 'DELETED' && !held) {
          // Deleting something we never held: only progress.
          if (rv && rv !== resourceVersion) {
            resourceVersion = newer(rv, resourceVersion);
            changed = true;
          }
          break;
        }
        items ??= new Map(state.items);
        if (ev.type === 'DELETED') items.delete(key);
        else items.set(key, o);
        if (rv) resourceVersion = newer(rv, resourceVersion);
        error = undefined;
        changed = true;
        revision++;
        break;
      }
      case 'BOOKMARK':
        if (ev.resourceVersion !== resourceVersion) {
          resourceVersion = newer(ev.resourceVersion, resourceVersion);
          changed = true;
        }
        break;
      case 'ERROR':
        if (ev.status.code === 410) stale = true;
        else error = ev.status;
        changed = true;
        break;
    }
  }
  if (!changed) return state;
  return {
    items: items ?? state.items,
    resourceVersion,
    listResourceVersion,
    synced,
    stale,
    error,
    revision,
  };
}

/** Items sorted by namespace then name (stable order for tables). */
export function sortedItems(state: ListState): KubeObject[] {
  return [...state.items.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((e) => e[1]);
}
