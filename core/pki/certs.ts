/**
 * Leaf certificates signed by the cluster CA: the API server's serving certificate and client
 * certificates (user = subject CN, groups = one O attribute each, as Kubernetes reads them).
 */
import { isIP } from 'node:net';
import { signLeaf, type CertificateAuthority } from './ca.ts';
import { exportPrivateKeyPem, generateKeyPair, normalizeSerial, x509 } from './x509.ts';

export const LEAF_VALIDITY_DAYS = 365;
export const SERVING_COMMON_NAME = 'berth-apiserver';
/** The first address of the default service range 10.96.0.0/12: the `kubernetes` Service's ClusterIP. */
export const KUBERNETES_SERVICE_IP = '10.96.0.1';
export const DEFAULT_SERVING_DNS: readonly string[] = [
  'localhost',
  'kubernetes',
  'kubernetes.default',
  'kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local',
];
export const DEFAULT_SERVING_IPS: readonly string[] = ['127.0.0.1', '::1', KUBERNETES_SERVICE_IP];

/** A certificate with its key, as handed to callers and written to disk. */
export interface IssuedCert {
  /** PEM certificate. */
  certPem: string;
  /** PEM PKCS#8 private key. */
  keyPem: string;
  /** Hex serial number (lowercase, no leading zeros: what openssl and Node print, lowercased). */
  serial: string;
  notAfter: Date;
}

export interface SubjectAltNames {
  dns?: readonly string[];
  ips?: readonly string[];
}

export interface NormalizedSANs {
  dns: string[];
  ips: string[];
}

/** Canonical text for an IP address (IPv6 compressed, lowercase); throws on anything else. */
export function normalizeIp(ip: string): string {
  const trimmed = ip.trim();
  const family = isIP(trimmed);
  if (family === 4) return trimmed;
  if (family === 6) return new URL(`http://[${trimmed}]/`).hostname.slice(1, -1);
  throw new Error(`not an IP address: ${JSON.stringify(ip)}`);
}

export function normalizeDnsName(name: string): string {
  const n = name.trim().toLowerCase().replace(/\.$/, '');
  if (
    !n ||
    n.length > 253 ||
    !/^(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/.test(n)
  ) {
    throw new Error(`not a DNS name: ${JSON.stringify(name)}`);
  }
  return n;
}

/** Normalizes, de-duplicates and unions any number of SAN sets (order: first seen). */
export function unionSANs(...sets: (SubjectAltNames | undefined)[]): NormalizedSANs {
  const dns = new Set<string>();
  const ips = new Set<string>();
  for (const s of sets) {
    for (const d of s?.dns ?? []) dns.add(normalizeDnsName(d));
    for (const i of s?.ips ?? []) ips.add(normalizeIp(i));
  }
  return { dns: [...dns], ips: [...ips] };
}

/** The default serving SANs plus the extra ones. */
export function servingSANs(extra?: SubjectAltNames): NormalizedSANs {
  return unionSANs({ dns: DEFAULT_SERVING_DNS, ips: DEFAULT_SERVING_IPS }, extra);
}

/** The DNS and IP SANs a certificate carries (normalized). */
export function readSANs(certPem: string): NormalizedSANs {
  const ext = new x509.X509Certificate(certPem).getExtension(x509.SubjectAlternativeNameExtension);
  const dns: string[] = [];
  const ips: string[] = [];
  for (const n of ext?.names.toJSON() ?? []) {
    if (n.type === 'dns') dns.push(n.value.toLowerCase());
    else if (n.type === 'ip') ips.push(normalizeIp(n.value));
  }
  return { dns, ips };
}

/** The SANs in `wanted` that `have` lacks. */
export function missingSANs(have: SubjectAltNames, wanted: SubjectAltNames): NormalizedSANs {
  const h = unionSANs(have);
  const w = unionSANs(wanted);
  return { dns: w.dns.filter((d) => !h.dns.includes(d)), ips: w.ips.filter((i) => !h.ips.includes(i)) };
}

export interface LeafOptions {
  days?: number;
  now?: Date;
}

async function issue(
  ca: CertificateAuthority,
  subject: x509.JsonName,
  extensions: x509.Extension[],
  opts: LeafOptions,
): Promise<IssuedCert> {
  const keys = await generateKeyPair();
  const cert = await signLeaf(ca, {
    subject,
    publicKey: keys.publicKey,
    extensions,
    days: opts.days ?? LEAF_VALIDITY_DAYS,
    ...(opts.now ? { now: opts.now } : {}),
  });
  return {
    certPem: cert.toString('pem'),
    keyPem: await exportPrivateKeyPem(keys.privateKey),
    serial: normalizeSerial(cert.serialNumber),
    notAfter: cert.notAfter,
  };
}

export interface ServingCertOptions extends LeafOptions {
  /** Added to the defaults (localhost, kubernetes.*, 127.0.0.1, ::1, 10.96.0.1). */
  extraSANs?: SubjectAltNames;
  commonName?: string;
}

/** A TLS serving certificate (serverAuth) for the API server. */
export async function issueServingCert(
  ca: CertificateAuthority,
  opts: ServingCertOptions = {},
): Promise<IssuedCert> {
  const sans = servingSANs(opts.extraSANs);
  const names: x509.JsonGeneralName[] = [
    ...sans.dns.map((value) => ({ type: 'dns' as const, value })),
    ...sans.ips.map((value) => ({ type: 'ip' as const, value })),
  ];
  return issue(
    ca,
    [{ CN: [opts.commonName ?? SERVING_COMMON_NAME] }],
    [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
    ],
    opts,
  );
}

export interface ClientCertOptions extends LeafOptions {
  user: string;
  groups?: readonly string[];
}

/**
 * A client certificate (clientAuth): subject CN=<user> and one O=<group> RDN per group, so Node's
 * getPeerCertificate().subject.O is an array when there are several groups.
 */
export async function issueClientCert(
  ca: CertificateAuthority,
  opts: ClientCertOptions,
): Promise<IssuedCert> {
  if (!opts.user) throw new Error('a client certificate needs a user name');
  const groups = [...new Set(opts.groups ?? [])];
  if (groups.some((g) => !g)) throw new Error('group names must not be empty');
  return issue(
    ca,
    [{ CN: [opts.user] }, ...groups.map((g) => ({ O: [g] }))],
    [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
    ],
    opts,
  );
}

/** User (CN) and groups (every O, in order) of a certificate's subject. */
export function certIdentity(certPem: string): { user: string; groups: string[] } {
  const subject = new x509.X509Certificate(certPem).subjectName;
  return { user: subject.getField('CN')[0] ?? '', groups: subject.getField('O') };
}
