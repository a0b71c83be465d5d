/** App state: the clusters, the chosen cluster and namespace, the view, and the live lists. */
import { defineStore } from 'pinia';
import { computed, shallowRef } from 'vue';
import type { ClusterInfo } from '../../../electron/contract.ts';
import { useConnection } from '../bridge.ts';
import { KINDS, NAMESPACES_REF, type KindName } from '../kinds.ts';
import { createLiveList, type LiveList } from './live-list.ts';

const STORAGE_KEY = 'berth.selection';

interface Saved {
  cluster?: string;
  namespace?: string;
}

function loadSaved(): Saved {
  try {
    return JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '{}') as Saved;
  } catch {
    return {};
  }
}

export const useAppStore = defineStore('app', () => {
  const conn = useConnection();
  const saved = loadSaved();
  const clusters = shallowRef<ClusterInfo[]>([]);
  const clustersError = shallowRef<string | undefined>(undefined);
  const clusterId = shallowRef<string>('');
  /** '' = all namespaces. */
  const namespace = shallowRef<string>(saved.namespace ?? '');
  const view = shallowRef<KindName>('pods');
  /** The key (namespace/name) of the object whose detail panel is open, in the current view. */
  const selected = shallowRef<string | undefined>(undefined);
  /** The manifest editor, when open: its first text; `seq` makes every opening a fresh editor. */
  const editor = shallowRef<{ title: string; text: string; seq: number } | undefined>(undefined);
  let editorSeq = 0;
  function openEditor(title: string, text: string): void {
    editor.value = { title, text, seq: ++editorSeq };
  }
  function showView(k: KindName): void {
    view.value = k;
    selected.value = undefined;
    editor.value = undefined;
  }

  const save = (): void => {
    localStorage.setItem(
      STORAGE_KEY,
      JSON.stringify({ cluster: clusterId.value, namespace: namespace.value }),
    );
  };

  async function refreshClusters(): Promise<void> {
    try {
      clusters.value = await conn.request('clusters.list', {});
      clustersError.value = undefined;
      const ids = clusters.value.map((c) => c.id);
      if (!ids.includes(clusterId.value)) {
        const preferred = saved.cluster && ids.includes(saved.cluster) ? saved.cluster : undefined;
        clusterId.value = preferred ?? clusters.value.find((c) => c.status === 'running')?.id ?? ids[0] ?? '';
      }
    } catch (e) {
      clustersError.value = e instanceof Error ? e.message : String(e);
    }
  }
  conn.onOpen(() => void refreshClusters());

  function selectCluster(id: string): void {
    clusterId.value = id;
    namespace.value = '';
    selected.value = undefined;
    save();
  }
  function selectNamespace(ns: string): void {
    namespace.value = ns;
    selected.value = undefined;
    save();
  }

  const lists = {} as Record<KindName, LiveList>;
  for (const k of Object.values(KINDS)) {
    lists[k.name] = createLiveList(conn, () =>
      clusterId.value
        ? {
            cluster: clusterId.value,
            ref: k.ref,
            ...(k.namespaced && namespace.value ? { namespace: namespace.value } : {}),
          }
        : undefined,
    );
  }
  const namespaces = createLiveList(conn, () =>
    clusterId.value ? { cluster: clusterId.value, ref: NAMESPACES_REF } : undefined,
  );
  const namespaceNames = computed(() =>
    [...namespaces.state.value.items.values()].map((n) => n.metadata.name ?? '').sort(),
  );
  const currentCluster = computed(() => clusters.value.find((c) => c.id === clusterId.value));

  return {
    connection: conn.state,
    clusters,
    clustersError,
    clusterId,
    currentCluster,
    namespace,
    namespaceNames,
    view,
    selected,
    editor,
    openEditor,
    showView,
    lists,
    refreshClusters,
    selectCluster,
    selectNamespace,
  };
});
