/**
 * POST pods/{name}/eviction (policy/v1 Eviction): deletes the pod unless a PodDisruptionBudget that
 * selects it allows no disruption, in which case the answer is 429 TooManyRequests with Kubernetes'
 * message; an allowed eviction consumes one disruption from the budget's status, as the eviction REST does.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { deepCopy, isPlainObject, type KObject } from '../../api/object.ts';
import { errors, successStatus } from '../../api/status.ts';
import type { RequestContext } from '../../registry/types.ts';
import { selectorMatches } from '../../registry/validation/selectors.ts';
import { decodeBody, type ProtobufDecoder } from '../body.ts';
import type { DeleteOptions, GenericRegistry } from '../generic-registry.ts';
import { readBody, sendJSON } from '../http-util.ts';
import type { RequestInfo } from '../request-info.ts';
import type { Served } from '../resources.ts';

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
    const dryRun = (opts.dryRun ?? []).length > 0;
    const pod = registry.get(s, info.namespace, info.name);
    const phase = ((pod['status'] ?? {}) as { phase?: string }).phase;
    const terminal = phase === 'Succeeded' || phase === 'Failed' || !!pod.metadata.deletionTimestamp;
    const pdbServed = registry.table.lookup('policy', 'v1', 'poddisruptionbudgets');
    if (pdbServed && !terminal) {
      const pdbs = registry
        .list(pdbServed, info.namespace, {})
        .items.filter((p) =>
          selectorMatches(((p['spec'] ?? {}) as { selector?: unknown }).selector, pod.metadata.labels),
        );
      if (pdbs.length > 1)
        throw errors.internal(
          new Error(
            'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
          ),
        );
      const pdb = pdbs[0];
      if (pdb) {
        const st = (pdb['status'] ?? {}) as {
          observedGeneration?: number;
          disruptionsAllowed?: number;
          desiredHealthy?: number;
          currentHealthy?: number;
        };
        const name = pdb.metadata.name ?? '';
        if ((st.observedGeneration ?? 0) < (pdb.metadata.generation ?? 1))
          throw errors.tooManyRequests(
            `Cannot evict pod as it would violate the pod's disruption budget. The disruption budget ${name} is still being processed by the server.`,
            10,
          );
        if ((st.disruptionsAllowed ?? 0) <= 0)
          throw errors.tooManyRequests(
            `Cannot evict pod as it would violate the pod's disruption budget. The disruption budget ${name} needs ${st.desiredHealthy ?? 0} healthy pods and has ${st.currentHealthy ?? 0} currently`,
            10,
          );
        if (!dryRun) {
          const next = deepCopy(pdb);
          (next['status'] as { disruptionsAllowed: number }).disruptionsAllowed =
            (st.disruptionsAllowed ?? 0) - 1;
          registry.update(pdbServed, info.namespace, name, next, ctx, { subresource: 'status' });
        }
      }
    }
    registry.delete(s, info.namespace, info.name, opts, { ...ctx, dryRun });
    sendJSON(res, 201, { ...successStatus(), code: 201 });
  };
}
