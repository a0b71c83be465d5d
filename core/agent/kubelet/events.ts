/**
 * The kubelet's event recorder: core/v1 Events about pods with source {component: kubelet, host:
 * node}, the container as fieldPath ("spec.containers{web}"). A repeat of the same event (same pod,
 * field, reason and message) within 10 minutes bumps count and lastTimestamp on the existing Event
 * instead of making a new one, as client-go's correlator does. Best effort: errors are logged.
 */
import { randomBytes } from 'node:crypto';
import { type KObject, rfc3339 } from '../../api/object.ts';
import type { KubeClient, ResourceRef } from '../../client/types.ts';

const EVENTS: ResourceRef = { group: '', version: 'v1', resource: 'events' };
const AGGREGATE_MS = 10 * 60_000;
const MAX_REMEMBERED = 2000;

export type EventType = 'Normal' | 'Warning';

interface Seen {
  name: string;
  namespace: string;
  count: number;
  last: number;
  first: string;
}

export class EventRecorder {
  private readonly seen = new Map<string, Seen>();
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: KubeClient,
    private readonly nodeName: string,
    private readonly log: (m: string) => void,
  ) {}

  /** Records an event about `pod` (optionally one of its containers: "spec.containers{c}"). */
  event(pod: KObject, type: EventType, reason: string, message: string, fieldPath?: string): void {
    const ns = pod.metadata.namespace ?? 'default';
    const key = [pod.metadata.uid, fieldPath ?? '', type, reason, message].join('\u0000');
    this.chain = this.chain
      .then(() => this.write(pod, ns, key, type, reason, message, fieldPath))
      .catch((e: unknown) =>
        this.log(`event ${reason} for ${ns}/${pod.metadata.name ?? ''}: ${(e as Error).message}`),
      );
  }

  /** Resolves once every event recorded so far was written (tests). */
  flush(): Promise<void> {
    return this.chain;
  }

  private async write(
    pod: KObject,
    ns: string,
    key: string,
    type: EventType,
    reason: string,
    message: string,
    fieldPath: string | undefined,
  ): Promise<void> {
    const now = Date.now();
    const ts = rfc3339(new Date(now));
    const prev = this.seen.get(key);
    if (prev && now - prev.last < AGGREGATE_MS) {
      prev.count++;
      prev.last = now;
      try {
        await this.client.patch(EVENTS, prev.namespace, prev.name, 'application/merge-patch+json', {
          count: prev.count,
          lastTimestamp: ts,
        });
        return;
      } catch {
        this.seen.delete(key); // gone (TTL): write a new one
      }
    }
    const name = `${pod.metadata.name ?? ''}.${randomBytes(8).toString('hex')}`;
    await this.client.create(EVENTS, ns, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: ns },
      involvedObject: {
        apiVersion: 'v1',
        kind: 'Pod',
        namespace: ns,
        name: pod.metadata.name,
        uid: pod.metadata.uid,
        ...(fieldPath ? { fieldPath } : {}),
      },
      reason,
      message,
      type,
      source: { component: 'kubelet', host: this.nodeName },
      firstTimestamp: ts,
      lastTimestamp: ts,
      count: 1,
      reportingComponent: 'kubelet',
      reportingInstance: this.nodeName,
    });
    if (this.seen.size >= MAX_REMEMBERED) this.seen.clear();
    this.seen.set(key, { name, namespace: ns, count: 1, last: now, first: ts });
  }
}
