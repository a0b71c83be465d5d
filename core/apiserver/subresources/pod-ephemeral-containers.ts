/**
 * pods/{name}/ephemeralcontainers (what `kubectl debug` patches): GET returns the pod; PATCH and PUT
 * may only add ephemeral containers — those already there stay as they are (they cannot be changed
 * or removed), every other field comes from the stored pod. The whole spec is validated (names
 * unique across all containers, the ephemeral containers' fields, targetContainerName).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EphemeralContainer, PodSpec } from 'kubernetes-types/core/v1';
import { fieldErr } from '../../api/field-errors.ts';
import { deepCopy, isPlainObject, type KObject } from '../../api/object.ts';
import { errors } from '../../api/status.ts';
import { validatePodSpec } from '../../registry/core/pod-spec.ts';
import type { RequestContext } from '../../registry/types.ts';
import type { ProtobufDecoder } from '../body.ts';
import type { GenericRegistry } from '../generic-registry.ts';
import { sendJSON } from '../http-util.ts';
import type { RequestInfo } from '../request-info.ts';
import { dryRunOf, requestedSubresourceObject, type Patcher } from '../resource-handlers.ts';
import type { Served } from '../resources.ts';

const GR = { group: '', resource: 'pods/ephemeralcontainers' };

const ephemeralOf = (o: KObject): EphemeralContainer[] => {
  const spec = isPlainObject(o['spec']) ? (o['spec'] as unknown as PodSpec) : undefined;
  return Array.isArray(spec?.ephemeralContainers) ? spec.ephemeralContainers : [];
};

/** The stored ephemeral containers unchanged, then the new ones of `wanted` in its order. */
export function mergeEphemeral(
  stored: EphemeralContainer[],
  wanted: EphemeralContainer[],
): { list: EphemeralContainer[]; changed: string[] } {
  const old = new Map(stored.map((c) => [c.name, c]));
  const changed = wanted
    .filter((c) => old.has(c.name) && JSON.stringify(c) !== JSON.stringify(old.get(c.name)))
    .map((c) => c.name);
  return { list: [...stored, ...wanted.filter((c) => !old.has(c.name))], changed };
}

export function podEphemeralContainersHandler(
  registry: GenericRegistry,
  patcher: Patcher | undefined,
  protobuf?: ProtobufDecoder,
) {
  return async (
    req: IncomingMessage,
    res: ServerResponse,
    info: RequestInfo,
    s: Served,
    ctx: RequestContext,
    q: URLSearchParams,
  ): Promise<void> => {
    const pod = registry.get(s, info.namespace, info.name);
    if (info.verb === 'get') return sendJSON(res, 200, pod);
    const wanted = await requestedSubresourceObject(
      req,
      info.verb,
      pod,
      s,
      { patcher, protobuf },
      GR,
      ctx.now,
    );
    const { list, changed } = mergeEphemeral(ephemeralOf(pod), ephemeralOf(wanted));
    const next = deepCopy(pod);
    const spec = next['spec'] as PodSpec;
    spec.ephemeralContainers = list;
    s.strategy.defaults?.(next); // the new containers' defaults (imagePullPolicy, terminationMessage…)
    const errs = [
      ...changed.map((n) =>
        fieldErr.forbidden(
          'spec.ephemeralContainers',
          `existing ephemeral containers "${n}" may not be changed`,
        ),
      ),
      ...validatePodSpec(spec, 'spec'),
    ];
    if (errs.length) throw errors.invalid('', 'Pod', info.name, errs);
    const r = registry.update(
      s,
      info.namespace,
      info.name,
      next,
      { ...ctx, dryRun: dryRunOf(q.getAll('dryRun')) },
      { subresource: 'ephemeralcontainers', fieldManager: q.get('fieldManager') ?? undefined },
    );
    sendJSON(res, 200, r.object);
  };
}
