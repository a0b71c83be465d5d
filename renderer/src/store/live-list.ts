/**
 * A live list: one `resources.subscribe` for whatever `spec()` currently returns, its batches folded
 * by the pure reducer into a shallowRef. Re-subscribes when the spec changes (cluster, namespace) and
 * after the connection comes back (the server drops a socket's watches when it closes).
 */
import { shallowRef, watch, type ShallowRef } from 'vue';
import type { ResourceRef } from '../../../electron/contract.ts';
import type { Connection } from '../bridge.ts';
import { initialListState, reduceList, type ListState } from './list-reducer.ts';
import { mark } from './perf-mark.ts';

export interface LiveListSpec {
  cluster: string;
  ref: ResourceRef;
  namespace?: string;
  fieldSelector?: string;
  /** Not sent: a change re-subscribes (e.g. the cluster came up on a new server URL). */
  generation?: string;
}

export interface LiveList {
  state: ShallowRef<ListState>;
  /** The error of the last subscribe attempt, if it failed. */
  failure: ShallowRef<string | undefined>;
  stop(): void;
}

let counter = 0;

export function createLiveList(conn: Connection, spec: () => LiveListSpec | undefined): LiveList {
  const state = shallowRef<ListState>(initialListState);
  const failure = shallowRef<string | undefined>(undefined);
  let currentId: string | undefined;
  let resource = '';

  const offEvents = conn.onEvent((m) => {
    if (m.channel !== 'resources.watch' || m.subscriptionId !== currentId) return;
    const wasSynced = state.value.synced;
    state.value = reduceList(state.value, m.events);
    if (!wasSynced && state.value.synced) mark(`berth:synced:${resource}`);
  });

  const unsubscribe = (): void => {
    if (!currentId) return;
    const id = currentId;
    currentId = undefined;
    conn.request('resources.unsubscribe', { subscriptionId: id }).catch(() => {});
  };

  const subscribe = (): void => {
    unsubscribe();
    state.value = initialListState;
    failure.value = undefined;
    const s = spec();
    if (!s || conn.state.value !== 'open') return;
    const id = `sub-${++counter}-${s.ref.resource}`;
    currentId = id;
    resource = s.ref.resource;
    mark(`berth:subscribe:${resource}`);
    conn
      .request('resources.subscribe', {
        subscriptionId: id,
        cluster: s.cluster,
        ref: s.ref,
        ...(s.namespace ? { namespace: s.namespace } : {}),
        ...(s.fieldSelector ? { fieldSelector: s.fieldSelector } : {}),
      })
      .catch((e: unknown) => {
        if (currentId === id) {
          currentId = undefined;
          failure.value = e instanceof Error ? e.message : String(e);
        }
      });
  };

  // Compared as text: a spec that re-evaluates to the same content keeps the subscription.
  const stopWatch = watch(() => JSON.stringify(spec() ?? null), subscribe);
  const offOpen = conn.onOpen(subscribe);

  return {
    state,
    failure,
    stop() {
      stopWatch();
      offOpen();
      offEvents();
      unsubscribe();
    },
  };
}
