/**
 * Authentication: X.509 client certificates (CN = user, O = groups) verified against the cluster CA,
 * bearer tokens through pluggable token authenticators, and anonymous requests as system:anonymous.
 * Impersonation headers are applied afterwards by the server (they need authorization).
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket, PeerCertificate } from 'node:tls';
import {
  ANONYMOUS_USER,
  AUTHENTICATED,
  type TokenAuthenticator,
  UNAUTHENTICATED,
  type UserInfo,
} from '../auth/types.ts';
import { errors } from '../api/status.ts';

export interface CertificateCheck {
  /** Revocation (the RBAC issue): return false to refuse a certificate by serial. */
  isRevoked?(serialHex: string): boolean;
}

function asArray(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

export function userFromCertificate(cert: PeerCertificate): UserInfo {
  const cn = asArray(cert.subject?.CN as string | string[] | undefined)[0] ?? '';
  const groups = asArray(cert.subject?.O as string | string[] | undefined);
  return { username: cn, groups: [...new Set([...groups, AUTHENTICATED])] };
}

export class Authenticator {
  constructor(
    private readonly tokens: TokenAuthenticator[] = [],
    private readonly certCheck: CertificateCheck = {},
  ) {}

  /** Returns the user, or throws 401 for presented-but-invalid credentials. */
  authenticate(req: IncomingMessage): UserInfo {
    const auth = req.headers.authorization;
    if (auth && /^bearer\s+/i.test(auth)) {
      const token = auth.replace(/^bearer\s+/i, '').trim();
      for (const t of this.tokens) {
        const u = t.authenticateToken(token);
        if (u) return { ...u, groups: [...new Set([...u.groups, AUTHENTICATED])] };
      }
      throw errors.unauthorized();
    }
    const sock = req.socket as TLSSocket;
    if (typeof sock.getPeerCertificate === 'function') {
      const cert = sock.getPeerCertificate();
      if (cert && Object.keys(cert).length > 0) {
        if (!sock.authorized) throw errors.unauthorized();
        if (this.certCheck.isRevoked?.(cert.serialNumber)) throw errors.unauthorized();
        const u = userFromCertificate(cert);
        if (!u.username) throw errors.unauthorized();
        return u;
      }
    }
    return { username: ANONYMOUS_USER, groups: [UNAUTHENTICATED] };
  }
}

/**
 * Impersonate-User / Impersonate-Group / Impersonate-Uid / Impersonate-Extra-* headers.
 * Returns the requested identity (authorization of the impersonation is the caller's job).
 */
export function impersonationRequest(req: IncomingMessage): UserInfo | undefined {
  const h = req.headersDistinct;
  const user = h['impersonate-user']?.[0];
  const groups = (h['impersonate-group'] ?? [])
    .flatMap((g) => g.split(','))
    .map((g) => g.trim())
    .filter(Boolean);
  const uid = h['impersonate-uid']?.[0];
  const extra: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(h)) {
    if (k.startsWith('impersonate-extra-') && v)
      extra[decodeURIComponent(k.slice('impersonate-extra-'.length))] = v;
  }
  if (!user) {
    if (groups.length || uid || Object.keys(extra).length)
      throw errors.badRequest('requested impersonation of groups, uid or extra without impersonating a user');
    return undefined;
  }
  const noGroups = groups.length === 0;
  const out: UserInfo = {
    username: user,
    groups: [...groups],
    ...(uid ? { uid } : {}),
    ...(Object.keys(extra).length ? { extra } : {}),
  };
  if (user !== ANONYMOUS_USER && !out.groups.includes(AUTHENTICATED)) out.groups.push(AUTHENTICATED);
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(user);
  if (sa && noGroups) out.groups.push('system:serviceaccounts', `system:serviceaccounts:${sa[1]}`);
  return out;
}
