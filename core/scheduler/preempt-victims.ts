/**
 * The API side of preemption (upstream's prepareCandidate): each victim gets the DisruptionTarget
 * condition (reason PreemptionByScheduler) and is deleted gracefully, with a "Preempted" event; pods of
 * lower priority nominated to the same node lose their nomination.
 */
import type { Pod } from 'kubernetes-types/core/v1';
import { rfc3339 } from '../api/object.ts';
import { StatusError } from '../api/status.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';
import { type DisruptionBudget, disruptionBudget } from './preemption.ts';

const podsRef: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
const pdbsRef: ResourceRef = { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' };

type Condition = Record<string, unknown>;

const gone = (e: unknown): boolean => e instanceof StatusError && e.code === 404;

/** Every PodDisruptionBudget of the cluster. */
export function listBudgets(client: InProcessClient): DisruptionBudget[] {
  return client
    .list(pdbsRef, '')
    .items.map((o) => disruptionBudget(o as Parameters<typeof disruptionBudget>[0]));
}

/**
 * Marks and deletes the victims (those already being deleted are left alone); `record` writes the
 * Preempted event about a victim. A victim that is already gone is skipped; other errors propagate.
 */
export function preemptVictims(
  client: InProcessClient,
  preemptor: Pod,
  node: string,
  victims: Pod[],
  record: (victim: Pod, message: string) => void,
): void {
  const scheduler = preemptor.spec?.schedulerName || 'default-scheduler';
  for (const v of victims) {
    if (v.metadata?.deletionTimestamp) continue;
    const ns = v.metadata?.namespace ?? '';
    const name = v.metadata?.name ?? '';
    const uid = v.metadata?.uid ?? '';
    try {
      const live = client.get(podsRef, ns, name);
      if (live.metadata.uid !== uid) continue;
      const status = (live['status'] ??= {}) as { conditions?: Condition[] };
      const want: Condition = {
        type: 'DisruptionTarget',
        status: 'True',
        reason: 'PreemptionByScheduler',
        message: `${scheduler}: preempting to accommodate a higher priority pod`,
      };
      const cur = (status.conditions ?? []).find((c) => c['type'] === 'DisruptionTarget');
      if (!cur || ['status', 'reason', 'message'].some((k) => cur[k] !== want[k])) {
        const since = cur?.['status'] === 'True' ? cur['lastTransitionTime'] : rfc3339();
        status.conditions = [
          ...(status.conditions ?? []).filter((c) => c !== cur),
          { ...want, lastProbeTime: null, lastTransitionTime: since },
        ];
        client.update(podsRef, ns, live, 'status');
      }
      client.delete(podsRef, ns, name, { preconditions: { uid } });
    } catch (e) {
      if (gone(e)) continue;
      throw e;
    }
    record(v, `Preempted by pod ${preemptor.metadata?.uid ?? ''} on node ${node}`);
  }
}

/** Clears status.nominatedNodeName of the given pods (best effort: they may have changed or gone). */
export function clearNominatedNodeName(client: InProcessClient, pods: Pod[]): void {
  for (const p of pods) {
    try {
      const live = client.get(podsRef, p.metadata?.namespace ?? '', p.metadata?.name ?? '');
      const status = (live['status'] ?? {}) as { nominatedNodeName?: string };
      if (live.metadata.uid !== p.metadata?.uid || !status.nominatedNodeName) continue;
      delete status.nominatedNodeName;
      client.update(podsRef, live.metadata.namespace ?? '', live, 'status');
    } catch {
      /* the next scheduling attempt of that pod sees its real state */
    }
  }
}
