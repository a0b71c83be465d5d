/**
 * "View as" in the renderer: which subject this window browses a cluster as. The main process does the
 * impersonation (every request of this window to that cluster carries Impersonate-User/-Group and its
 * open lists are re-read); this store only asks for it, remembers it (to ask again after a reconnect:
 * a new socket is a new session) and answers "may the subject exec into this pod?".
 */
import { defineStore } from 'pinia';
import { computed, shallowRef, watch, type ShallowRef } from 'vue';
import type { RbacSubject, ViewAsState } from '../../electron/contract.ts';
import { useConnection } from './bridge.ts';
import { useAppStore } from './store/app.ts';
import { actionableError, deniedText, subjectText } from './rbac-model.ts';

export const useViewAsStore = defineStore('viewAs', () => {
  const conn = useConnection();
  const state = shallowRef<ViewAsState>({});
  const error = shallowRef<string | undefined>(undefined);
  const busy = shallowRef(false);

  async function set(cluster: string, subject: RbacSubject | null): Promise<boolean> {
    busy.value = true;
    try {
      state.value = await conn.request('viewAs.set', { cluster, subject });
      error.value = undefined;
      return true;
    } catch (e) {
      error.value = actionableError(e);
      return false;
    } finally {
      busy.value = false;
    }
  }
  conn.onOpen(() => {
    const s = state.value;
    if (s.cluster && s.subject) void set(s.cluster, s.subject);
  });

  /** Whether the mode is on for the cluster. */
  const activeFor = (cluster: string): boolean => !!state.value.subject && state.value.cluster === cluster;
  const subjectLabel = computed(() => (state.value.subject ? subjectText(state.value.subject) : ''));

  return {
    state,
    error,
    busy,
    subjectLabel,
    activeFor,
    enter: (cluster: string, subject: RbacSubject) => set(cluster, subject),
    leave: () => (state.value.cluster ? set(state.value.cluster, null) : Promise.resolve(true)),
  };
});

export interface Permission {
  /** undefined: being checked. */
  allowed: boolean | undefined;
  reason: string;
}

/**
 * While "view as" is on for the cluster: may the subject create pods/exec on this pod (a
 * SelfSubjectAccessReview made as the subject)? Undefined when the mode is off.
 */
export function useExecPermission(
  cluster: () => string,
  namespace: () => string,
  pod: () => string,
): ShallowRef<Permission | undefined> {
  const conn = useConnection();
  const viewAs = useViewAsStore();
  const out = shallowRef<Permission | undefined>(undefined);
  let seq = 0;
  watch(
    () => [cluster(), namespace(), pod(), viewAs.state] as const,
    async ([c, ns, name, state]) => {
      const mine = ++seq;
      const subject = state.subject;
      if (!name || !subject || state.cluster !== c) {
        out.value = undefined;
        return;
      }
      out.value = { allowed: undefined, reason: `checking whether ${subjectText(subject)} may exec…` };
      try {
        const [a] = await conn.request('rbac.can', {
          cluster: c,
          questions: [
            { verb: 'create', group: '', resource: 'pods', subresource: 'exec', namespace: ns, name },
          ],
        });
        if (mine !== seq) return;
        out.value = a?.allowed
          ? { allowed: true, reason: '' }
          : { allowed: false, reason: deniedText(subject, 'create', 'pods/exec', ns, a?.reason) };
      } catch (e) {
        if (mine === seq)
          out.value = {
            allowed: false,
            reason: `cannot tell whether exec is allowed: ${actionableError(e)}`,
          };
      }
    },
    { immediate: true },
  );
  return out;
}

/**
 * Enters "view as" for the chosen cluster. A subject rarely may list across all namespaces, so when
 * "All namespaces" is chosen the lists switch to `namespace` (default: `default`).
 */
export function useEnterViewAs(): (subject: RbacSubject, namespace?: string) => Promise<void> {
  const app = useAppStore();
  const viewAs = useViewAsStore();
  return async (subject, namespace) => {
    if ((await viewAs.enter(app.clusterId, subject)) && !app.namespace)
      app.selectNamespace(namespace || 'default');
  };
}
