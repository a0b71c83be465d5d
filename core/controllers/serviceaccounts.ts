/**
 * The ServiceAccount controller and the root-CA publisher: every namespace gets a `default`
 * ServiceAccount and a `kube-root-ca.crt` ConfigMap holding the cluster CA (what the projected token
 * volume mounts as ca.crt). Recreated when deleted.
 */
import { StatusError } from '../api/status.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';
import type { Watcher } from '../store/types.ts';

const NAMESPACES: ResourceRef = { group: '', version: 'v1', resource: 'namespaces' };
const SERVICEACCOUNTS: ResourceRef = { group: '', version: 'v1', resource: 'serviceaccounts' };
const CONFIGMAPS: ResourceRef = { group: '', version: 'v1', resource: 'configmaps' };

export class ServiceAccountController {
  private watchers: Watcher[] = [];

  constructor(
    private readonly client: InProcessClient,
    private readonly caPem: string,
  ) {}

  start(): void {
    // Work is deferred out of the store's event delivery (no writes from inside a watch callback).
    const sync = (ns: string, terminating: boolean): void => {
      if (!terminating) this.later(ns);
    };
    this.watchers.push(
      this.client.watch(NAMESPACES, '', {}, (type, ns) => {
        if (type !== 'DELETED') sync(ns.metadata.name ?? '', !!ns.metadata.deletionTimestamp);
      }),
      this.client.watch(SERVICEACCOUNTS, '', { fieldSelector: 'metadata.name=default' }, (type, sa) => {
        if (type === 'DELETED') this.later(sa.metadata.namespace ?? '');
      }),
      this.client.watch(CONFIGMAPS, '', { fieldSelector: 'metadata.name=kube-root-ca.crt' }, (type, cm) => {
        if (
          type === 'DELETED' ||
          (cm['data'] as Record<string, string> | undefined)?.['ca.crt'] !== this.caPem
        )
          this.later(cm.metadata.namespace ?? '');
      }),
    );
  }

  stop(): void {
    for (const w of this.watchers) w.stop();
    this.watchers = [];
  }

  private later(ns: string): void {
    setImmediate(() => this.ensure(ns));
  }

  private ensure(ns: string): void {
    let nsObj;
    try {
      nsObj = this.client.get(NAMESPACES, '', ns);
    } catch {
      return;
    }
    if (nsObj.metadata.deletionTimestamp) return;
    this.create(SERVICEACCOUNTS, ns, {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'default', namespace: ns },
    });
    const want = { 'ca.crt': this.caPem };
    try {
      const cm = this.client.get(CONFIGMAPS, ns, 'kube-root-ca.crt');
      if ((cm['data'] as Record<string, string> | undefined)?.['ca.crt'] !== this.caPem)
        this.client.update(CONFIGMAPS, ns, { ...cm, data: want });
    } catch (e) {
      if (e instanceof StatusError && e.code === 404)
        this.create(CONFIGMAPS, ns, {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: {
            name: 'kube-root-ca.crt',
            namespace: ns,
            annotations: {
              'kubernetes.io/description':
                'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.',
            },
          },
          data: want,
        });
    }
  }

  private create(r: ResourceRef, ns: string, obj: import('../api/object.ts').KObject): void {
    try {
      this.client.create(r, ns, obj);
    } catch (e) {
      if (!(e instanceof StatusError && (e.code === 409 || e.code === 403 || e.code === 404))) throw e;
    }
  }
}
