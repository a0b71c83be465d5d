/** App state: the clusters, the chosen cluster and namespace, the view, and the live lists. */
import { defineStore } from 'pinia';
import { computed, shallowRef } from 'vue';
import type { ClusterInfo, HostedClusterState, ResourceRef } from '../../../electron/contract.ts';
import { useConnection } from '../bridge.ts';
import { downloadText } from '../download.ts';
import { KINDS, NAMESPACES_REF, type KindName } from '../kinds.ts';
import { createLiveList, type LiveList } from './live-list.ts';
import { openGateWhen } from './first-list-gate.ts';
import { runAppCommand } from './app-commands.ts';
import { mark } from './perf-mark.ts';

const STORAGE_KEY = 'berth.selection';
const FIRST_LIST_ALONE_MS = 1500;

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

/** What the main area shows: a resource list (`view`), or one of the other pages. */
export type Page = 'resources' | 'clusters' | 'overview' | 'terminal' | 'logs' | 'rbac';

export type TerminalTarget =
  { kind: 'shell' } | { kind: 'exec'; namespace: string; pod: string; container?: string };

export interface LogsTarget {
  namespace: string;
  pods: string[];
  /** e.g. pod/web-1 or deployment/web */
  title: string;
}

export const useAppStore = defineStore('app', () => {
  const conn = useConnection();
  const saved = loadSaved();
  const clusters = shallowRef<ClusterInfo[]>([]);
  const clustersError = shallowRef<string | undefined>(undefined);
  const clusterId = shallowRef<string>('');
  /** '' = all namespaces. */
  const namespace = shallowRef<string>(saved.namespace ?? '');
  // A `#<kind>` deep link (e.g. #pods) opens that list; otherwise the Overview.
  const linked = location.hash.slice(1);
  const view = shallowRef<KindName>(Object.hasOwn(KINDS, linked) ? (linked as KindName) : 'pods');
  /** The key (namespace/name) of the object whose detail panel is open, in the current view. */
  const selected = shallowRef<string | undefined>(undefined);
  /** The manifest editor, when open: its first text; `seq` makes every opening a fresh editor. */
  const editor = shallowRef<{ title: string; text: string; seq: number } | undefined>(undefined);
  let editorSeq = 0;
  function openEditor(title: string, text: string): void {
    editor.value = { title, text, seq: ++editorSeq };
  }
  const page = shallowRef<Page>(Object.hasOwn(KINDS, linked) ? 'resources' : 'overview');
  function showView(k: KindName): void {
    view.value = k;
    page.value = 'resources';
    selected.value = undefined;
    editor.value = undefined;
  }
  function showPage(p: Page): void {
    page.value = p;
    editor.value = undefined;
  }
  /** The terminal page's target; every request gets a new seq so the page opens a fresh terminal. */
  const terminal = shallowRef<{ target: TerminalTarget; seq: number } | undefined>(undefined);
  const logs = shallowRef<{ target: LogsTarget; seq: number } | undefined>(undefined);
  let seq = 0;
  function openTerminal(target: TerminalTarget): void {
    terminal.value = { target, seq: ++seq };
    showPage('terminal');
  }
  function openLogs(target: LogsTarget): void {
    logs.value = { target, seq: ++seq };
    showPage('logs');
  }
  /** Progress lines of hosted clusters (id → lines), as they arrive. */
  const progress = shallowRef<Record<string, string[]>>({});

  const save = (): void => {
    localStorage.setItem(
      STORAGE_KEY,
      JSON.stringify({ cluster: clusterId.value, namespace: namespace.value }),
    );
  };

  async function refreshClusters(): Promise<void> {
    try {
      clusters.value = await conn.request('clusters.list', {});
      mark('berth:clusters');
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
  conn.onOpen(() => {
    mark('berth:open');
    void refreshClusters();
  });
  conn.onEvent((m) => {
    if (m.channel === 'app.command')
      void runAppCommand(m.command, {
        showClusters: () => showPage('clusters'),
        cluster: () => clusterId.value,
        request: (method, params) => conn.request(method, params),
        download: downloadText,
        fail: (message) => (clustersError.value = message),
      });
    if (m.channel !== 'clusters.progress') return;
    const before = clusters.value.find((c) => c.id === m.cluster);
    const merged = (c: ClusterInfo, state: HostedClusterState): ClusterInfo => ({ ...c, hosted: state });
    clusters.value = clusters.value.map((c) => (c.id === m.cluster ? merged(c, m.state) : c));
    progress.value = { ...progress.value, [m.cluster]: m.state.progress };
    // A new cluster, or a phase change: re-read the list (server URL and reachability change).
    if (!before || before.hosted?.phase !== m.state.phase) void refreshClusters();
  });

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

  const currentCluster = computed(() => clusters.value.find((c) => c.id === clusterId.value));
  /** Lists re-subscribe when the cluster (re)starts: its server or reachability changed. */
  const generation = computed(
    () => `${currentCluster.value?.server ?? ''} ${currentCluster.value?.status ?? ''}`,
  );
  const lists = {} as Record<KindName, LiveList>;
  // The list on screen first (store/first-list-gate.ts); other pages start every list at once.
  const othersMayStart = shallowRef(page.value !== 'resources');
  for (const k of Object.values(KINDS)) {
    lists[k.name] = createLiveList(conn, () =>
      clusterId.value && (othersMayStart.value || (page.value === 'resources' && view.value === k.name))
        ? {
            cluster: clusterId.value,
            ref: k.ref,
            generation: generation.value,
            ...(k.namespaced && namespace.value ? { namespace: namespace.value } : {}),
          }
        : undefined,
    );
  }
  openGateWhen(
    othersMayStart,
    () => {
      const l = lists[view.value];
      return page.value !== 'resources' || l.state.value.synced || l.failure.value !== undefined;
    },
    FIRST_LIST_ALONE_MS,
  );
  const namespaces = createLiveList(conn, () =>
    clusterId.value && othersMayStart.value
      ? { cluster: clusterId.value, ref: NAMESPACES_REF, generation: generation.value }
      : undefined,
  );
  // The chosen namespace stays listed even when the namespace list cannot be read ("view as" a
  // subject who may not list namespaces).
  const namespaceNames = computed(() =>
    [
      ...new Set([...namespaces.state.value.items.values()].map((n) => n.metadata.name ?? '')).add(
        namespace.value,
      ),
    ]
      .filter(Boolean)
      .sort(),
  );

  /**
   * A live list of any kind in the chosen cluster (and namespace, for namespaced kinds), for views
   * that list other kinds than the sidebar's (the RBAC page); the caller stops it when done.
   */
  function liveList(ref: ResourceRef, namespaced: boolean): LiveList {
    return createLiveList(conn, () =>
      clusterId.value
        ? {
            cluster: clusterId.value,
            ref,
            generation: generation.value,
            ...(namespaced && namespace.value ? { namespace: namespace.value } : {}),
          }
        : undefined,
    );
  }

  return {
    connection: conn.state,
    liveList,
    clusters,
    clustersError,
    clusterId,
    currentCluster,
    namespace,
    namespaceNames,
    view,
    page,
    showPage,
    terminal,
    openTerminal,
    logs,
    openLogs,
    progress,
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
