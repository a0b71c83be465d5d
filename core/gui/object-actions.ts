/**
 * Object actions of the GUI's detail panel, as kubectl performs them: scale (a merge patch of the scale
 * subresource's spec.replicas, like `kubectl scale`), restart a Deployment (the strategic merge patch of
 * `kubectl rollout restart`: the pod template's kubectl.kubernetes.io/restartedAt annotation, refused
 * for a paused Deployment), and the pod's scheduling verdict (Berth's pods/schedulingverdict).
 */
import type { KubeObject, PodSchedulingVerdict, ResourceRef } from './contract.ts';
import { resourcePath, type KubeClient } from './kube-client.ts';
import { FIELD_MANAGER } from './apply.ts';

export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';
const DEPLOYMENTS: ResourceRef = { group: 'apps', version: 'v1', resource: 'deployments' };

export function scaleResource(
  client: KubeClient,
  ref: ResourceRef,
  namespace: string,
  name: string,
  replicas: number,
): Promise<KubeObject> {
  return client.request<KubeObject>('PATCH', resourcePath(ref, namespace, name, 'scale'), {
    query: { fieldManager: FIELD_MANAGER },
    body: JSON.stringify({ spec: { replicas } }),
    contentType: 'application/merge-patch+json',
  });
}

/** RFC 3339 in UTC without fractions, as Go's time.RFC3339 prints. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export async function restartDeployment(
  client: KubeClient,
  namespace: string,
  name: string,
  now: Date = new Date(),
): Promise<KubeObject> {
  const path = resourcePath(DEPLOYMENTS, namespace, name);
  const current = await client.request<KubeObject & { spec?: { paused?: boolean } }>('GET', path);
  if (current.spec?.paused) throw new Error(`can't restart paused deployment (run rollout resume first)`);
  const patch = {
    spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: rfc3339(now) } } } },
  };
  return client.request<KubeObject>('PATCH', path, {
    query: { fieldManager: FIELD_MANAGER },
    body: JSON.stringify(patch),
    contentType: 'application/strategic-merge-patch+json',
  });
}

export function schedulingVerdict(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<PodSchedulingVerdict> {
  const pods: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
  return client.request<PodSchedulingVerdict>(
    'GET',
    resourcePath(pods, namespace, name, 'schedulingverdict'),
  );
}
