/**
 * Service account tokens: the JWTs the TokenRequest API (serviceaccounts/<name>/token) issues and the
 * authenticator that accepts them, as kube-apiserver's "bound service account tokens". Signed with the
 * cluster's service-account key (ES256, `<data-dir>/pki/sa.key`); issuer and default audience
 * https://kubernetes.default.svc.cluster.local. A token is valid while it is unexpired, its service
 * account still exists with the same UID, and the object it is bound to (a Pod, Secret or Node) still
 * exists with the UID named in the token. Compact JWS over node:crypto: nothing else is needed.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomUUID,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TokenAuthenticator, UserInfo } from './types.ts';

export const SA_ISSUER = 'https://kubernetes.default.svc.cluster.local';
export const SA_KEY_FILE = 'sa.key';
const SA_PREFIX = 'system:serviceaccount:';

export interface BoundObject {
  kind: 'Pod' | 'Secret' | 'Node';
  name: string;
  uid: string;
}

/** The issuer of legacy Secret tokens, as kube-controller-manager's token controller sets it. */
export const LEGACY_ISSUER = 'kubernetes/serviceaccount';

export interface LegacyTokenClaims {
  iss: typeof LEGACY_ISSUER;
  sub: string;
  'kubernetes.io/serviceaccount/namespace': string;
  'kubernetes.io/serviceaccount/secret.name': string;
  'kubernetes.io/serviceaccount/service-account.name': string;
  'kubernetes.io/serviceaccount/service-account.uid': string;
}

export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  'kubernetes.io': {
    namespace: string;
    serviceaccount: { name: string; uid: string };
    pod?: { name: string; uid: string };
    secret?: { name: string; uid: string };
    node?: { name: string; uid: string };
  };
}

/** Loads `<pkiDir>/sa.key`, making a P-256 key the first time. */
export function loadOrCreateSigningKey(pkiDir: string): KeyObject {
  const path = join(pkiDir, SA_KEY_FILE);
  if (!existsSync(path)) {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  }
  return createPrivateKey(readFileSync(path));
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

export class ServiceAccountTokens {
  private readonly publicKey: KeyObject;
  private readonly kid: string;

  constructor(
    private readonly key: KeyObject,
    readonly audiences: string[] = [SA_ISSUER],
  ) {
    this.publicKey = createPublicKey(key);
    const der = this.publicKey.export({ type: 'spki', format: 'der' });
    this.kid = b64url(Buffer.from(der).subarray(-32));
  }

  /** A signed token for namespace/serviceAccount, valid `expirationSeconds` from `now`. */
  issue(opts: {
    namespace: string;
    serviceAccount: { name: string; uid: string };
    audiences?: string[];
    expirationSeconds: number;
    bound?: BoundObject;
    now?: Date;
  }): { token: string; claims: TokenClaims } {
    const iat = Math.floor((opts.now ?? new Date()).getTime() / 1000);
    const k8s: TokenClaims['kubernetes.io'] = {
      namespace: opts.namespace,
      serviceaccount: { ...opts.serviceAccount },
    };
    if (opts.bound) {
      const ref = { name: opts.bound.name, uid: opts.bound.uid };
      if (opts.bound.kind === 'Pod') k8s.pod = ref;
      else if (opts.bound.kind === 'Secret') k8s.secret = ref;
      else k8s.node = ref;
    }
    const claims: TokenClaims = {
      iss: SA_ISSUER,
      sub: `${SA_PREFIX}${opts.namespace}:${opts.serviceAccount.name}`,
      aud: opts.audiences?.length ? opts.audiences : this.audiences,
      exp: iat + opts.expirationSeconds,
      iat,
      nbf: iat,
      jti: randomUUID(),
      'kubernetes.io': k8s,
    };
    return { token: this.sign(claims), claims };
  }

  /** The payload of a compact JWS this key signed (ES256), else undefined. */
  private signedPayload(token: string): unknown {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const [head = '', body = '', sig = ''] = parts;
    try {
      const h = JSON.parse(Buffer.from(head, 'base64url').toString()) as { alg?: string };
      if (h.alg !== 'ES256') return undefined;
      const ok = verify(
        'sha256',
        Buffer.from(`${head}.${body}`),
        { key: this.publicKey, dsaEncoding: 'ieee-p1363' },
        Buffer.from(sig, 'base64url'),
      );
      return ok ? (JSON.parse(Buffer.from(body, 'base64url').toString()) as unknown) : undefined;
    } catch {
      return undefined;
    }
  }

  private sign(claims: object): string {
    const head = b64url(JSON.stringify({ alg: 'ES256', kid: this.kid }));
    const body = b64url(JSON.stringify(claims));
    const sig = sign('sha256', Buffer.from(`${head}.${body}`), { key: this.key, dsaEncoding: 'ieee-p1363' });
    return `${head}.${body}.${b64url(sig)}`;
  }

  /**
   * A legacy (non-expiring) token for a kubernetes.io/service-account-token Secret, with the claims
   * kube-controller-manager's token controller writes; valid only while that Secret holds it.
   */
  issueLegacy(opts: {
    namespace: string;
    serviceAccount: { name: string; uid: string };
    secretName: string;
  }): string {
    const claims: LegacyTokenClaims = {
      iss: LEGACY_ISSUER,
      'kubernetes.io/serviceaccount/namespace': opts.namespace,
      'kubernetes.io/serviceaccount/secret.name': opts.secretName,
      'kubernetes.io/serviceaccount/service-account.name': opts.serviceAccount.name,
      'kubernetes.io/serviceaccount/service-account.uid': opts.serviceAccount.uid,
      sub: `${SA_PREFIX}${opts.namespace}:${opts.serviceAccount.name}`,
    };
    return this.sign(claims);
  }

  /** The claims of a legacy Secret token this key signed, else undefined. */
  verifyLegacy(token: string): LegacyTokenClaims | undefined {
    const c = this.signedPayload(token) as Partial<LegacyTokenClaims> | undefined;
    if (!c || c.iss !== LEGACY_ISSUER) return undefined;
    const ns = c['kubernetes.io/serviceaccount/namespace'];
    const sa = c['kubernetes.io/serviceaccount/service-account.name'];
    if (!ns || !sa || !c['kubernetes.io/serviceaccount/secret.name']) return undefined;
    if (!c['kubernetes.io/serviceaccount/service-account.uid'] || c.sub !== `${SA_PREFIX}${ns}:${sa}`)
      return undefined;
    return c as LegacyTokenClaims;
  }

  /** The claims of a token this key signed for one of our audiences and not expired; else undefined. */
  verify(token: string, now = new Date()): TokenClaims | undefined {
    const claims = this.signedPayload(token) as TokenClaims | undefined;
    if (!claims || typeof claims !== 'object') return undefined;
    const t = Math.floor(now.getTime() / 1000);
    if (claims.iss !== SA_ISSUER || typeof claims.exp !== 'number' || t >= claims.exp) return undefined;
    if (typeof claims.nbf === 'number' && t + 60 < claims.nbf) return undefined;
    if (!Array.isArray(claims.aud) || !claims.aud.some((a) => this.audiences.includes(a))) return undefined;
    if (!claims.sub?.startsWith(SA_PREFIX) || !claims['kubernetes.io']?.serviceaccount) return undefined;
    return claims;
  }
}

/** Looks objects up for the authenticator: the UID of namespace/name of a kind, or undefined if absent. */
export type UidLookup = (
  kind: 'ServiceAccount' | 'Pod' | 'Secret' | 'Node',
  namespace: string,
  name: string,
) => string | undefined;

/** The (decoded) `token` of a kubernetes.io/service-account-token Secret, or undefined if there is none. */
export type SecretTokenLookup = (namespace: string, name: string) => string | undefined;

/** Bearer tokens issued by ServiceAccountTokens, checked against the live objects they name. */
export class ServiceAccountTokenAuthenticator implements TokenAuthenticator {
  constructor(
    private readonly tokens: ServiceAccountTokens,
    private readonly lookup: UidLookup,
    private readonly secretToken: SecretTokenLookup = () => undefined,
  ) {}

  /** A legacy Secret token: valid while the account exists with that UID and the Secret still holds it. */
  private authenticateLegacy(token: string): UserInfo | undefined {
    const c = this.tokens.verifyLegacy(token);
    if (!c) return undefined;
    const ns = c['kubernetes.io/serviceaccount/namespace'];
    const uid = c['kubernetes.io/serviceaccount/service-account.uid'];
    if (this.lookup('ServiceAccount', ns, c['kubernetes.io/serviceaccount/service-account.name']) !== uid)
      return undefined;
    if (this.secretToken(ns, c['kubernetes.io/serviceaccount/secret.name']) !== token) return undefined;
    return { username: c.sub, uid, groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`] };
  }

  authenticateToken(token: string): UserInfo | undefined {
    if (token.split('.').length !== 3) return undefined;
    const c = this.tokens.verify(token);
    if (!c) return this.authenticateLegacy(token);
    const k = c['kubernetes.io'];
    if (this.lookup('ServiceAccount', k.namespace, k.serviceaccount.name) !== k.serviceaccount.uid)
      return undefined;
    if (k.pod && this.lookup('Pod', k.namespace, k.pod.name) !== k.pod.uid) return undefined;
    if (k.secret && this.lookup('Secret', k.namespace, k.secret.name) !== k.secret.uid) return undefined;
    if (k.node && this.lookup('Node', '', k.node.name) !== k.node.uid) return undefined;
    const extra: Record<string, string[]> = {
      'authentication.kubernetes.io/credential-id': [`JTI=${c.jti}`],
    };
    if (k.pod) {
      extra['authentication.kubernetes.io/pod-name'] = [k.pod.name];
      extra['authentication.kubernetes.io/pod-uid'] = [k.pod.uid];
    }
    if (k.node) {
      extra['authentication.kubernetes.io/node-name'] = [k.node.name];
      extra['authentication.kubernetes.io/node-uid'] = [k.node.uid];
    }
    return {
      username: c.sub,
      uid: k.serviceaccount.uid,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${k.namespace}`],
      extra,
    };
  }
}
