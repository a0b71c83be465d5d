/**
 * The kubelet's status manager: writes a pod's status only when it differs from what was last
 * written (or, after a restart, from what the API holds), as a merge patch of the status subresource
 * carrying the pod's UID (so a new pod of the same name is never written). A merge patch needs no
 * resourceVersion, so status writes never fight other writers over versions.
 */
import type { PodStatus } from 'kubernetes-types/core/v1';
import type { KObject } from '../../api/object.ts';
import { StatusError } from '../../api/status.ts';
import type { KubeClient } from '../../client/types.ts';
import { PODS } from './context.ts';
import { statusChanged } from './status.ts';

export class StatusWriter {
  private readonly written = new Map<string, PodStatus>();
  /** Count of writes (tests, metrics). */
  writes = 0;

  constructor(
    private readonly client: KubeClient,
    private readonly log: (m: string) => void,
  ) {}

  /** Writes `status` for `pod` if it changed; resolves false when the pod is gone. */
  async write(pod: KObject, status: PodStatus): Promise<boolean> {
    const uid = pod.metadata.uid ?? '';
    const before = this.written.get(uid) ?? ((pod['status'] ?? {}) as PodStatus);
    if (!statusChanged(before, status)) return true;
    const patch: Record<string, unknown> = { ...status };
    // Fields we no longer report are removed explicitly (merge patch semantics).
    for (const k of Object.keys(before)) if (!(k in patch)) patch[k] = null;
    try {
      await this.client.patch(
        PODS,
        pod.metadata.namespace ?? 'default',
        pod.metadata.name ?? '',
        'application/merge-patch+json',
        { metadata: { uid }, status: patch },
        { subresource: 'status' },
      );
      this.written.set(uid, status);
      this.writes++;
      return true;
    } catch (e) {
      if (e instanceof StatusError && (e.code === 404 || e.code === 409 || e.code === 422)) {
        // Gone, or a different pod of that name now: nothing of ours to write.
        this.log(
          `status of ${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''} not written: ${e.message}`,
        );
        return e.code !== 404;
      }
      throw e;
    }
  }

  forget(uid: string): void {
    this.written.delete(uid);
  }
}
