/**
 * GET pods/{name}/schedulingverdict — a Berth extension (not a Kubernetes API): the scheduler's verdict of
 * the pod's last scheduling attempt, node by node and filter by filter with its numbers (requested vs
 * allocatable…), so the GUI and users can answer "why is this pod Pending?". Authorized like any pod
 * subresource (verb get on pods/schedulingverdict); the pod must exist. The verdict lives in the
 * scheduler's memory: after a restart it is empty until the next attempt (attempts: 0).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errors } from '../../api/status.ts';
import type { RequestContext } from '../../registry/types.ts';
import type { GenericRegistry } from '../generic-registry.ts';
import { sendJSON } from '../http-util.ts';
import type { RequestInfo } from '../request-info.ts';
import type { Served } from '../resources.ts';

export const SCHEDULING_VERDICT_API_VERSION = 'berth.dev/v1alpha1';

/** Returns the verdict (any JSON object) for a pod, or undefined when none is recorded. */
export type VerdictSource = (namespace: string, name: string) => object | undefined;

export function podSchedulingVerdictHandler(registry: GenericRegistry, source: VerdictSource) {
  return (
    _req: IncomingMessage,
    res: ServerResponse,
    info: RequestInfo,
    s: Served,
    _ctx: RequestContext,
  ): Promise<void> => {
    if (info.verb !== 'get')
      throw errors.methodNotSupported({ group: '', resource: 'pods/schedulingverdict' }, info.verb);
    const pod = registry.get(s, info.namespace, info.name);
    const verdict = source(info.namespace, info.name);
    const nodeName = (pod['spec'] as { nodeName?: string } | undefined)?.nodeName;
    sendJSON(res, 200, {
      apiVersion: SCHEDULING_VERDICT_API_VERSION,
      kind: 'PodSchedulingVerdict',
      metadata: { name: info.name, namespace: info.namespace, uid: pod.metadata.uid },
      ...(verdict ?? {
        attempts: 0,
        ...(nodeName ? { boundTo: nodeName } : {}),
        message: nodeName
          ? 'no scheduling attempt recorded: the pod was bound before the scheduler (re)started or named its node itself'
          : 'no scheduling attempt recorded yet',
        nodes: [],
        scores: [],
      }),
    });
    return Promise.resolve();
  };
}
