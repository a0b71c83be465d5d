/**
 * One client interface for every component, in-process or remote (DESIGN.md principle 1): controllers in
 * the Berth process use the in-process client (InProcessClient.asKubeClient()), node agents and tools use
 * HttpsClient. Errors are StatusError (the server's Status object) in both.
 */
import type { KObject } from '../api/object.ts';
import type { ResourceRef, ListOpts } from './in-process.ts';

export type { ResourceRef, ListOpts };

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ListResult {
  items: KObject[];
  resourceVersion: string;
  continue?: string;
}

export interface WatchOpts {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  /** Server-side timeout (seconds); the watch then ends normally. */
  timeoutSeconds?: number;
  /** Called with the resourceVersion of each BOOKMARK event (progress without a change). */
  onBookmark?: (resourceVersion: string) => void;
}

export interface ClientWatch {
  stop(): void;
  /** Settles when the watch ends: undefined when stopped or closed by the server, else the error (a
   * StatusError with code 410 when the resourceVersion is too old). */
  readonly done: Promise<Error | undefined>;
}

export interface DeleteOpts {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
}

export type PatchType =
  | 'application/merge-patch+json'
  | 'application/strategic-merge-patch+json'
  | 'application/json-patch+json'
  | 'application/apply-patch+yaml';

export interface KubeClient {
  get(r: ResourceRef, namespace: string, name: string): Promise<KObject>;
  list(r: ResourceRef, namespace: string, opts?: ListOpts): Promise<ListResult>;
  create(r: ResourceRef, namespace: string, obj: KObject): Promise<KObject>;
  /** PUT; `subresource` "status" writes only the status. */
  update(r: ResourceRef, namespace: string, obj: KObject, subresource?: string): Promise<KObject>;
  patch(
    r: ResourceRef,
    namespace: string,
    name: string,
    type: PatchType,
    body: unknown,
    opts?: { subresource?: string; fieldManager?: string; force?: boolean },
  ): Promise<KObject>;
  /** Resolves with the object (still present while finalizers or grace periods run) and whether it is gone. */
  delete(
    r: ResourceRef,
    namespace: string,
    name: string,
    opts?: DeleteOpts,
  ): Promise<{ object: KObject; gone: boolean }>;
  /** Starts a watch; events arrive in order. A resourceVersion of "" or "0" starts with synthetic ADDED
   * events for the current state. */
  watch(
    r: ResourceRef,
    namespace: string,
    opts: WatchOpts,
    onEvent: (type: WatchEventType, obj: KObject) => void,
  ): Promise<ClientWatch>;
}
