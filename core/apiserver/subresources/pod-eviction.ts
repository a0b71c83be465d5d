/**
 * POST pods/{name}/eviction (policy/v1 Eviction), as Kubernetes' EvictionREST:
 * - a pod that is terminal (Succeeded/Failed), Pending or already being deleted is deleted without a
 *   PodDisruptionBudget check (a Pending pod with a resourceVersion precondition, so it cannot turn
 *   Ready in between);
 * - otherwise the one PDB selecting it decides (more than one: a 500 Status). A pod that is not Ready is
 *   deleted without consuming the budget when the PDB's unhealthyPodEvictionPolicy is AlwaysAllow, or
 *   when the budget is met (currentHealthy >= desiredHealthy > 0); a conflict on that delete answers 429;
 * - else the budget is checked and decremented: 429 while the PDB controller has not observed the PDB's
 *   generation or when no disruption is allowed, 403 when disruptionsAllowed is negative or
 *   status.disruptedPods holds more than 2000 entries; an allowed eviction decrements disruptionsAllowed
 *   and records the pod in status.disruptedPods (not on dryRun) in one status write, retried on conflict;
 * - the pod gets the condition DisruptionTarget=True (EvictionByEvictionAPI) before it is deleted.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { deepCopy, isPlainObject, rfc3339, type KObject } from '../../api/object.ts';
import { errors, StatusError, successStatus } from '../../api/status.ts';
import { isPodReady } from '../../api/pod-conditions.ts';
import {
  pdbSelects,
  pdbSpec,
  pdbStatus,
  setDisruptionAllowedCondition,
} from '../../registry/policy/pdb-status.ts';
import type { RequestContext } from '../../registry/types.ts';
import { decodeBody, type ProtobufDecoder } from '../body.ts';
import type { DeleteOptions, GenericRegistry } from '../generic-registry.ts';
import { readBody, sendJSON } from '../http-util.ts';
import type { RequestInfo } from '../request-info.ts';
import { dryRunOf } from '../resource-handlers.ts';
import type { Served } from '../resources.ts';

/** The most unconfirmed evictions a PDB may hold in status.disruptedPods (MaxDisruptedPodSize). */
export const MAX_DISRUPTED_POD_SIZE = 2000;
/** EvictionsRetry: how many times a conflicting write is retried. */
const EVICTION_RETRIES = 20;

const BUDGET_MESSAGE = "Cannot evict pod as it would violate the pod's disruption budget.";

function budgetError(cause: string, retryAfterSeconds: number): StatusError {
  return new StatusError(
    429,
    'TooManyRequests',
    BUDGET_MESSAGE,
    {
      ...(retryAfterSeconds > 0 ? { retryAfterSeconds } : {}),
      causes: [{ reason: 'DisruptionBudget', message: cause }],
    },
    retryAfterSeconds > 0 ? { 'Retry-After': String(retryAfterSeconds) } : {},
  );
}

const stillProcessing = (pdb: string): StatusError =>
  budgetError(`The disruption budget ${pdb} is still being processed by the server.`, 10);

const isConflict = (e: unknown): boolean => e instanceof StatusError && e.code === 409;
const phaseOf = (pod: KObject): string => ((pod['status'] ?? {}) as { phase?: string }).phase ?? '';

/** canIgnorePDB. */
function canIgnorePdb(pod: KObject): boolean {
  const phase = phaseOf(pod);
  return (
    phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || !!pod.metadata.deletionTimestamp
  );
}

/** shouldEnforceResourceVersion: not for terminal pods or pods already being deleted. */
function shouldEnforceResourceVersion(pod: KObject): boolean {
  const phase = phaseOf(pod);
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata.deletionTimestamp;
}

const withResourceVersion = (opts: DeleteOptions, rv: string | undefined): DeleteOptions => ({
  ...opts,
  preconditions: { ...opts.preconditions, ...(rv ? { resourceVersion: rv } : {}) },
});

export function podEvictionHandler(registry: GenericRegistry, protobuf?: ProtobufDecoder) {
  return async (
    req: IncomingMessage,
    res: ServerResponse,
    info: RequestInfo,
    s: Served,
    ctx: RequestContext,
  ): Promise<void> => {
    if (info.verb !== 'create')
      throw errors.methodNotSupported({ group: '', resource: 'pods/eviction' }, info.verb);
    const ev = decodeBody(
      await readBody(req),
      req.headers['content-type'],
      { apiVersion: 'policy/v1', kind: 'Eviction' },
      protobuf,
    ) as KObject;
    if (ev.metadata?.name && ev.metadata.name !== info.name)
      throw errors.badRequest(`name in URL does not match name in Eviction object`);
    const opts = (isPlainObject(ev['deleteOptions']) ? ev['deleteOptions'] : {}) as DeleteOptions;
    // propagateDryRun: the query's dryRun and the body's deleteOptions.dryRun must agree.
    const queryDryRun = new URL(req.url ?? '/', 'http://localhost').searchParams.getAll('dryRun');
    const bodyDryRun = opts.dryRun ?? [];
    if (queryDryRun.length && bodyDryRun.length && queryDryRun.join(',') !== bodyDryRun.join(','))
      throw errors.badRequest(
        `Non-matching dry-run options in request and content: [${queryDryRun.join(' ')}] and [${bodyDryRun.join(' ')}]`,
      );
    const dryRun = ctx.dryRun || dryRunOf(bodyDryRun.length ? bodyDryRun : queryDryRun);
    const rvUnset = !opts.preconditions?.resourceVersion;
    const ns = info.namespace;
    const name = info.name;

    /** addConditionAndDeletePod: DisruptionTarget=True through the status, then the delete. */
    const deletePod = (options: DeleteOptions): void => {
      let o = options;
      if (!dryRun) {
        const latest = registry.get(s, ns, name);
        const pre = o.preconditions;
        if (pre?.uid && pre.uid !== latest.metadata.uid)
          throw errors.conflict(
            { group: '', resource: 'pods' },
            name,
            `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${latest.metadata.uid ?? ''}`,
          );
        if (pre?.resourceVersion && pre.resourceVersion !== latest.metadata.resourceVersion)
          throw errors.conflict(
            { group: '', resource: 'pods' },
            name,
            `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${latest.metadata.resourceVersion ?? ''}`,
          );
        const updated = registry.update(s, ns, name, withDisruptionTarget(latest, ctx.now), ctx, {
          subresource: 'status',
        }).object;
        if (pre?.resourceVersion) o = withResourceVersion(o, updated.metadata.resourceVersion);
      }
      registry.delete(s, ns, name, o, { ...ctx, dryRun });
    };
    const done = (): void => sendJSON(res, 201, { ...successStatus(), code: 201 });

    // Pods that need no budget check are deleted at once (retrying conflicts unless the caller set a
    // resourceVersion precondition).
    let pod: KObject | undefined;
    for (let attempt = 0; ; attempt++) {
      pod = registry.get(s, ns, name);
      if (!canIgnorePdb(pod)) break;
      const options =
        shouldEnforceResourceVersion(pod) && rvUnset
          ? withResourceVersion(opts, pod.metadata.resourceVersion)
          : opts;
      try {
        deletePod(options);
        return done();
      } catch (e) {
        if (!isConflict(e) || !rvUnset || attempt >= EVICTION_RETRIES - 1) throw e;
      }
    }

    const pdbServed = registry.table.lookup('policy', 'v1', 'poddisruptionbudgets');
    const target = pod;
    const pdbs = pdbServed ? registry.list(pdbServed, ns, {}).items.filter((p) => pdbSelects(p, target)) : [];
    if (pdbs.length > 1) {
      sendJSON(res, 500, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message:
          'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
        code: 500,
      });
      return;
    }
    const first = pdbs[0];
    if (!first || !pdbServed) {
      deletePod(opts);
      return done();
    }
    const pdbName = first.metadata.name ?? '';
    let unhealthyAllowed = false;
    if (!isPodReady(target)) {
      const st = pdbStatus(first);
      if (pdbSpec(first).unhealthyPodEvictionPolicy === 'AlwaysAllow') unhealthyAllowed = true;
      else if ((st.currentHealthy ?? 0) >= (st.desiredHealthy ?? 0) && (st.desiredHealthy ?? 0) > 0)
        unhealthyAllowed = true;
    }
    if (!unhealthyAllowed) {
      let pdb = first;
      for (let attempt = 0; ; attempt++) {
        try {
          checkAndDecrement(registry, pdbServed, pdb, name, dryRun, ctx);
          break;
        } catch (e) {
          if (!isConflict(e)) throw e;
          if (attempt >= EVICTION_RETRIES - 1)
            throw new StatusError(
              504,
              'Timeout',
              `Timeout: couldn't update PodDisruptionBudget "${pdbName}" due to conflicts`,
              { retryAfterSeconds: 10 },
            );
          pdb = registry.get(pdbServed, ns, pdbName);
        }
      }
      deletePod(opts);
      return done();
    }
    // An unhealthy pod the budget lets go: only if it has not turned Ready since (resourceVersion).
    try {
      deletePod(withResourceVersion(opts, target.metadata.resourceVersion));
    } catch (e) {
      if (isConflict(e) && rvUnset) throw stillProcessing(pdbName);
      throw e;
    }
    done();
  };
}

/** checkAndDecrement: verify the budget allows one more disruption and consume it. */
function checkAndDecrement(
  registry: GenericRegistry,
  pdbServed: Served,
  pdb: KObject,
  podName: string,
  dryRun: boolean,
  ctx: RequestContext,
): void {
  const name = pdb.metadata.name ?? '';
  const st = pdbStatus(pdb);
  const gr = { group: 'policy', resource: 'poddisruptionbudget' };
  if ((st.observedGeneration ?? 0) < (pdb.metadata.generation ?? 0)) throw stillProcessing(name);
  const allowed = st.disruptionsAllowed ?? 0;
  if (allowed < 0) throw errors.forbidden(gr, name, 'pdb disruptions allowed is negative');
  if (Object.keys(st.disruptedPods ?? {}).length > MAX_DISRUPTED_POD_SIZE)
    throw errors.forbidden(
      gr,
      name,
      'DisruptedPods map too big - too many evictions not confirmed by PDB controller',
    );
  if (allowed === 0)
    throw budgetError(
      `The disruption budget ${name} needs ${st.desiredHealthy ?? 0} healthy pods and has ${st.currentHealthy ?? 0} currently`,
      0,
    );
  if (dryRun) return;
  const next = deepCopy(pdb);
  const status = { ...pdbStatus(next), disruptionsAllowed: allowed - 1 };
  if (status.disruptionsAllowed === 0) setDisruptionAllowedCondition(status, ctx.now);
  status.disruptedPods = { ...status.disruptedPods, [podName]: rfc3339(ctx.now) };
  next['status'] = status;
  registry.update(pdbServed, pdb.metadata.namespace ?? '', name, next, ctx, { subresource: 'status' });
}

/** The pod with DisruptionTarget=True (EvictionByEvictionAPI), lastTransitionTime kept if already True. */
function withDisruptionTarget(pod: KObject, now: Date): KObject {
  const next = deepCopy(pod);
  const st = (next['status'] ??= {}) as { conditions?: Record<string, unknown>[] };
  const conds = (st.conditions ??= []);
  const i = conds.findIndex((c) => c['type'] === 'DisruptionTarget');
  const prev = i >= 0 ? conds[i] : undefined;
  const cond = {
    type: 'DisruptionTarget',
    status: 'True',
    lastProbeTime: prev?.['lastProbeTime'] ?? null,
    lastTransitionTime:
      prev?.['status'] === 'True' && typeof prev['lastTransitionTime'] === 'string'
        ? prev['lastTransitionTime']
        : rfc3339(now),
    reason: 'EvictionByEvictionAPI',
    message: 'Eviction API: evicting',
  };
  if (i >= 0) conds[i] = cond;
  else conds.push(cond);
  return next;
}
