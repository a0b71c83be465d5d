/**
 * POST pods/{name}/binding: assigns an unscheduled pod to a node (what schedulers do). A pod already
 * assigned is a 409 Conflict; the Binding's annotations are copied onto the pod, and PodScheduled=True
 * is recorded, as the pod registry's assignPod does.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { deepCopy, isPlainObject, type KObject, rfc3339 } from '../../api/object.ts';
import { errors, successStatus } from '../../api/status.ts';
import type { RequestContext } from '../../registry/types.ts';
import { decodeBody, type ProtobufDecoder } from '../body.ts';
import type { GenericRegistry } from '../generic-registry.ts';
import { readBody, sendJSON } from '../http-util.ts';
import type { RequestInfo } from '../request-info.ts';
import type { Served } from '../resources.ts';

export function podBindingHandler(registry: GenericRegistry, protobuf?: ProtobufDecoder) {
  return async (
    req: IncomingMessage,
    res: ServerResponse,
    info: RequestInfo,
    s: Served,
    ctx: RequestContext,
    q: URLSearchParams,
  ): Promise<void> => {
    if (info.verb !== 'create')
      throw errors.methodNotSupported({ group: '', resource: 'pods/binding' }, info.verb);
    const binding = decodeBody(
      await readBody(req),
      req.headers['content-type'],
      { apiVersion: 'v1', kind: 'Binding' },
      protobuf,
    ) as KObject;
    const target = (binding['target'] ?? {}) as { kind?: string; name?: string };
    if (target.kind !== undefined && target.kind !== '' && target.kind !== 'Node')
      throw errors.invalid('', 'Binding', info.name, [
        {
          type: 'FieldValueNotSupported',
          field: 'target.kind',
          value: target.kind,
          detail: 'supported values: "Node"',
        },
      ]);
    if (!target.name)
      throw errors.invalid('', 'Binding', info.name, [{ type: 'FieldValueRequired', field: 'target.name' }]);
    const pod = registry.get(s, info.namespace, info.name);
    const spec = (pod['spec'] ?? {}) as { nodeName?: string };
    if (pod.metadata.deletionTimestamp)
      throw errors.conflict(
        { group: '', resource: 'pods/binding' },
        info.name,
        'pod is being deleted, cannot be assigned to a host',
      );
    if (spec.nodeName)
      throw errors.conflict(
        { group: '', resource: 'pods/binding' },
        info.name,
        `pod ${info.name} is already assigned to node "${spec.nodeName}"`,
      );
    const uid = isPlainObject(binding.metadata) ? binding.metadata.uid : undefined;
    if (uid && uid !== pod.metadata.uid)
      throw errors.conflict(
        { group: '', resource: 'pods/binding' },
        info.name,
        `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${pod.metadata.uid}`,
      );
    const next = deepCopy(pod);
    (next['spec'] as { nodeName?: string }).nodeName = target.name;
    const ann = binding.metadata?.annotations;
    if (ann && Object.keys(ann).length)
      next.metadata.annotations = { ...(next.metadata.annotations ?? {}), ...ann };
    const status = (next['status'] ??= {}) as {
      conditions?: { type: string; status: string; lastProbeTime?: null; lastTransitionTime?: string }[];
    };
    const conds = (status.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
    conds.push({
      type: 'PodScheduled',
      status: 'True',
      lastProbeTime: null,
      lastTransitionTime: rfc3339(ctx.now),
    });
    status.conditions = conds;
    registry.update(
      s,
      info.namespace,
      info.name,
      next,
      { ...ctx, dryRun: q.getAll('dryRun').length > 0 },
      { subresource: 'binding', fieldManager: q.get('fieldManager') ?? undefined },
    );
    sendJSON(res, 201, { ...successStatus(), code: 201 });
  };
}
