/**
 * The legacy service-account token controller (kube-controller-manager's TokensController): a Secret of
 * type kubernetes.io/service-account-token whose annotation kubernetes.io/service-account.name names an
 * account gets data token (a non-expiring JWT, see ServiceAccountTokens.issueLegacy), ca.crt and
 * namespace, and the account's UID in kubernetes.io/service-account.uid. A Secret naming a missing
 * account, or another UID than the account's, is deleted, as are an account's token Secrets when the
 * account is deleted.
 */
import type { KObject } from '../api/object.ts';
import { StatusError } from '../api/status.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';
import type { ServiceAccountTokens } from '../auth/service-account-token.ts';
import type { Watcher } from '../store/types.ts';

const SECRETS: ResourceRef = { group: '', version: 'v1', resource: 'secrets' };
const SERVICEACCOUNTS: ResourceRef = { group: '', version: 'v1', resource: 'serviceaccounts' };
export const SA_TOKEN_TYPE = 'kubernetes.io/service-account-token';
export const SA_NAME_ANNOTATION = 'kubernetes.io/service-account.name';
export const SA_UID_ANNOTATION = 'kubernetes.io/service-account.uid';
const TYPE_SELECTOR = `type=${SA_TOKEN_TYPE}`;

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

/** The decoded `token` of a service-account token Secret (what the authenticator compares against). */
export function legacySecretToken(secret: KObject | undefined): string | undefined {
  if (!secret || secret['type'] !== SA_TOKEN_TYPE) return undefined;
  const t = (secret['data'] as Record<string, string> | undefined)?.['token'];
  return t ? Buffer.from(t, 'base64').toString('utf8') : undefined;
}

export class ServiceAccountTokenController {
  private watchers: Watcher[] = [];
  private stopped = false;

  constructor(
    private readonly client: InProcessClient,
    private readonly tokens: ServiceAccountTokens,
    private readonly caPem: string,
  ) {}

  start(): void {
    this.watchers.push(
      this.client.watch(SECRETS, '', { fieldSelector: TYPE_SELECTOR }, (type, s) => {
        if (type !== 'DELETED')
          this.later(() => this.syncSecret(s.metadata.namespace ?? '', s.metadata.name ?? ''));
      }),
      this.client.watch(SERVICEACCOUNTS, '', {}, (type, sa) => {
        this.later(() => this.syncAccount(sa, type === 'DELETED'));
      }),
    );
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.watchers) w.stop();
    this.watchers = [];
  }

  /** Work is deferred out of the store's event delivery (no writes from inside a watch callback). */
  private later(fn: () => void): void {
    setImmediate(() => {
      if (this.stopped) return;
      try {
        fn();
      } catch (e) {
        if (!(e instanceof StatusError && (e.code === 404 || e.code === 409))) throw e;
      }
    });
  }

  private tryGet(r: ResourceRef, ns: string, name: string): KObject | undefined {
    try {
      return this.client.get(r, ns, name);
    } catch (e) {
      if (e instanceof StatusError && e.code === 404) return undefined;
      throw e;
    }
  }

  /** An account was added (fill its waiting Secrets) or deleted (remove its token Secrets). */
  private syncAccount(sa: KObject, deleted: boolean): void {
    const ns = sa.metadata.namespace ?? '';
    const mine = this.client
      .list(SECRETS, ns, { fieldSelector: TYPE_SELECTOR })
      .items.filter((s) => s.metadata.annotations?.[SA_NAME_ANNOTATION] === sa.metadata.name);
    for (const s of mine)
      if (deleted) this.client.delete(SECRETS, ns, s.metadata.name ?? '');
      else this.syncSecret(ns, s.metadata.name ?? '');
  }

  private syncSecret(ns: string, name: string): void {
    const secret = this.tryGet(SECRETS, ns, name);
    if (!secret || secret['type'] !== SA_TOKEN_TYPE || secret.metadata.deletionTimestamp) return;
    const ann = secret.metadata.annotations ?? {};
    const saName = ann[SA_NAME_ANNOTATION];
    if (!saName) return;
    const sa = this.tryGet(SERVICEACCOUNTS, ns, saName);
    const wantUid = ann[SA_UID_ANNOTATION];
    if (!sa || (wantUid && wantUid !== sa.metadata.uid)) {
      // The account is gone (or was recreated): its token must not outlive it.
      this.client.delete(SECRETS, ns, name);
      return;
    }
    const data = { ...((secret['data'] as Record<string, string> | undefined) ?? {}) };
    const uid = sa.metadata.uid ?? '';
    if (data['token'] && data['ca.crt'] && data['namespace'] && wantUid === uid) return;
    if (!data['token'])
      data['token'] = b64(
        this.tokens.issueLegacy({ namespace: ns, serviceAccount: { name: saName, uid }, secretName: name }),
      );
    data['ca.crt'] ??= b64(this.caPem);
    data['namespace'] ??= b64(ns);
    this.client.update(SECRETS, ns, {
      ...secret,
      metadata: { ...secret.metadata, annotations: { ...ann, [SA_UID_ANNOTATION]: uid } },
      data,
    });
  }
}
