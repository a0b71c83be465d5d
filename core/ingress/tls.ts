/**
 * TLS for the Ingress controller's HTTPS port: SNI picks the certificate of the Ingress TLS entry naming
 * the host (exact, then `*.domain` wildcard), from its `kubernetes.io/tls` Secret (tls.crt/tls.key, in
 * the Ingress's namespace); unknown hosts get the default certificate (signed by the cluster CA).
 * A TLS entry without hosts covers the hosts of its Ingress's rules. The oldest Ingress wins a host.
 */
import { createSecureContext, type SecureContext } from 'node:tls';
import type { KObject } from '../api/object.ts';
import { byAge, ingressSpec } from './routing.ts';
import { loadCa } from '../pki/ca.ts';
import { issueServingCert } from '../pki/certs.ts';

export interface CertificatePem {
  certPem: string;
  keyPem: string;
}

export interface TlsProblem {
  ingress: KObject;
  message: string;
}

/** host ("a.example.com" or "*.example.com") → context, built from Ingresses and their Secrets. */
export class CertificateTable {
  private readonly contexts = new Map<string, SecureContext>();
  readonly problems: TlsProblem[] = [];

  constructor(ingresses: KObject[], secret: (namespace: string, name: string) => KObject | undefined) {
    const built = new Map<string, SecureContext | undefined>();
    for (const ing of [...ingresses].sort(byAge)) {
      const ns = ing.metadata.namespace ?? '';
      const spec = ingressSpec(ing);
      const ruleHosts = (spec.rules ?? []).map((r) => r.host ?? '').filter(Boolean);
      for (const t of spec.tls ?? []) {
        if (!t.secretName) continue;
        const key = `${ns}/${t.secretName}`;
        if (!built.has(key)) built.set(key, this.context(ing, ns, t.secretName, secret));
        const ctx = built.get(key);
        if (!ctx) continue;
        for (const h of t.hosts?.length ? t.hosts : ruleHosts) {
          const host = h.toLowerCase();
          if (!this.contexts.has(host)) this.contexts.set(host, ctx);
        }
      }
    }
  }

  private context(
    ing: KObject,
    ns: string,
    name: string,
    secret: (namespace: string, name: string) => KObject | undefined,
  ): SecureContext | undefined {
    const s = secret(ns, name);
    const data = (s?.['data'] ?? {}) as Record<string, string>;
    if (!s) {
      this.problems.push({ ingress: ing, message: `secret ${ns}/${name} not found` });
      return undefined;
    }
    const cert = data['tls.crt'];
    const key = data['tls.key'];
    if (!cert || !key) {
      this.problems.push({ ingress: ing, message: `secret ${ns}/${name} has no tls.crt and tls.key` });
      return undefined;
    }
    try {
      return createSecureContext({ cert: Buffer.from(cert, 'base64'), key: Buffer.from(key, 'base64') });
    } catch (e) {
      this.problems.push({
        ingress: ing,
        message: `secret ${ns}/${name}: invalid certificate or key: ${(e as Error).message}`,
      });
      return undefined;
    }
  }

  /** The context for an SNI server name, or undefined (→ the default certificate). */
  lookup(servername: string): SecureContext | undefined {
    const host = servername.toLowerCase();
    const exact = this.contexts.get(host);
    if (exact) return exact;
    const dot = host.indexOf('.');
    return dot > 0 ? this.contexts.get(`*${host.slice(dot)}`) : undefined;
  }

  get size(): number {
    return this.contexts.size;
  }
}

/** The certificate for hosts no Ingress has one for: CN "berth ingress default", signed by the cluster CA. */
export async function defaultIngressCertificate(
  caCertPem: string,
  caKeyPem: string,
): Promise<CertificatePem> {
  const ca = await loadCa(caCertPem, caKeyPem);
  const c = await issueServingCert(ca, { commonName: 'berth ingress default' });
  return { certPem: c.certPem, keyPem: c.keyPem };
}
