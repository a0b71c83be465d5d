/**
 * The cluster's PKI on disk, under <dataDir>/pki/ (directory 0700, keys 0600):
 *   ca.crt ca.key               cluster CA (10 years; renewed with the same key when < 1 year is left)
 *   apiserver.crt apiserver.key serving certificate (1 year)
 *   admin.crt admin.key         admin client certificate, CN=berth-admin O=berth:cluster-admins (1 year)
 * Existing files are reused. A leaf is issued again when it is missing, unreadable, not signed by the
 * CA, has a key that does not match, expires within 30 days, or (serving) lacks a requested SAN — the
 * new one carries the union of the old SANs and the requested ones — or (admin) has another subject.
 */
import { X509Certificate as NodeX509Certificate, createPrivateKey } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLUSTER_ADMINS_GROUP } from '../auth/types.ts';
import { CA_VALIDITY_DAYS, createCa, loadCa, renewCa, type CertificateAuthority } from './ca.ts';
import {
  LEAF_VALIDITY_DAYS,
  certIdentity,
  issueClientCert,
  issueServingCert,
  missingSANs,
  readSANs,
  servingSANs,
  unionSANs,
  type IssuedCert,
  type NormalizedSANs,
  type SubjectAltNames,
} from './certs.ts';
import { daysBetween, importKeyPairPem, normalizeSerial } from './x509.ts';

export const ADMIN_USER = 'berth-admin';
/** A leaf is re-issued when it expires in less than this many days. */
export const LEAF_RENEW_BEFORE_DAYS = 30;
/** The CA is renewed (same key, new certificate) when it expires in less than this many days. */
export const CA_RENEW_BEFORE_DAYS = 365;

export const PKI_FILES = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  servingCert: 'apiserver.crt',
  servingKey: 'apiserver.key',
  adminCert: 'admin.crt',
  adminKey: 'admin.key',
} as const;

export interface LoadPkiOptions {
  /** Extra serving-certificate SANs (node network addresses, a host name …) on top of the defaults. */
  extraSANs?: SubjectAltNames;
  /** Clock, for tests. */
  now?: () => Date;
  /** Validity of newly issued leaves (default 365 days). */
  leafValidityDays?: number;
  /** Validity of a newly created or renewed CA (default 3650 days). */
  caValidityDays?: number;
}

export type PkiItem = 'ca' | 'serving' | 'admin';

/** What loadOrCreatePki wrote, and why. Empty when everything on disk was reused. */
export interface PkiChange {
  item: PkiItem;
  action: 'created' | 'renewed';
  reason: string;
}

export type ClientCertVerification =
  | { ok: true; user: string; groups: string[]; serial: string; notAfter: Date }
  | { ok: false; reason: string };

export interface ClusterPki {
  /** <dataDir>/pki */
  dir: string;
  ca: { certPem: string; keyPem: string; serial: string; notAfter: Date };
  serving: IssuedCert & { sans: NormalizedSANs };
  admin: IssuedCert;
  /** What was created or renewed by this load (so the caller knows to rewrite kubeconfigs). */
  changes: PkiChange[];
  /** A client certificate signed by the cluster CA (not stored; the caller decides where it goes). */
  issueClientCert(user: string, groups?: readonly string[], days?: number): Promise<IssuedCert>;
  /** A serving certificate for a node's agent endpoint (CN system:node:<name>, DNS SAN <name>). */
  issueNodeServingCert(node: string): Promise<IssuedCert>;
  /** Checks that a PEM client certificate was issued by this CA, is within its validity and allows clientAuth. */
  verifyClientCertChain(certPem: string): ClientCertVerification;
}

function writeAtomic(path: string, data: string, mode: number): void {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  writeFileSync(tmp, data, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

function readIfExists(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

function tightenMode(path: string, mode: number): void {
  if (existsSync(path)) chmodSync(path, mode);
}

/** Why a stored leaf cannot be reused, or undefined when it can. */
function leafProblem(
  caNode: NodeX509Certificate,
  certPem: string | undefined,
  keyPem: string | undefined,
  now: Date,
): string | undefined {
  if (certPem === undefined || keyPem === undefined) return 'missing';
  let cert: NodeX509Certificate;
  try {
    cert = new NodeX509Certificate(certPem);
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return 'key does not match certificate';
  } catch (e) {
    return `unreadable (${(e as Error).message})`;
  }
  if (!cert.checkIssued(caNode) || !cert.verify(caNode.publicKey)) return 'not signed by the cluster CA';
  const notAfter = new Date(cert.validTo);
  const left = daysBetween(now, notAfter);
  if (left < LEAF_RENEW_BEFORE_DAYS)
    return `expires ${notAfter.toISOString()} (in less than ${LEAF_RENEW_BEFORE_DAYS} days)`;
  if (new Date(cert.validFrom).getTime() > now.getTime() + 24 * 60 * 60 * 1000) return 'not valid yet';
  return undefined;
}

function toIssued(certPem: string, keyPem: string): IssuedCert {
  const c = new NodeX509Certificate(certPem);
  return { certPem, keyPem, serial: normalizeSerial(c.serialNumber), notAfter: new Date(c.validTo) };
}

export async function loadOrCreatePki(dataDir: string, opts: LoadPkiOptions = {}): Promise<ClusterPki> {
  const clock = opts.now ?? (() => new Date());
  const leafDays = opts.leafValidityDays ?? LEAF_VALIDITY_DAYS;
  const caDays = opts.caValidityDays ?? CA_VALIDITY_DAYS;
  const dir = join(dataDir, 'pki');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const path = (name: string) => join(dir, name);
  const changes: PkiChange[] = [];
  const now = clock();

  // --- CA ---
  const caCertPem = readIfExists(path(PKI_FILES.caCert));
  const caKeyPem = readIfExists(path(PKI_FILES.caKey));
  let ca: CertificateAuthority;
  let caWritten = false;
  if (caCertPem === undefined && caKeyPem === undefined) {
    ca = await createCa({ days: caDays, now });
    changes.push({ item: 'ca', action: 'created', reason: 'missing' });
    caWritten = true;
  } else if (caKeyPem === undefined) {
    // Never replace a trust root silently: every kubeconfig and node trusts this CA.
    throw new Error(
      `${path(PKI_FILES.caCert)} exists but ${PKI_FILES.caKey} is missing; restore it or delete ${dir}`,
    );
  } else if (caCertPem === undefined) {
    const fromKey = await createCa({ days: caDays, now, keys: await importKeyPairPem(caKeyPem) });
    ca = { ...fromKey, keyPem: caKeyPem };
    changes.push({
      item: 'ca',
      action: 'renewed',
      reason: `${PKI_FILES.caCert} missing; re-signed for the existing key`,
    });
    caWritten = true;
  } else {
    ca = await loadCa(caCertPem, caKeyPem);
    if (daysBetween(now, ca.notAfter) < CA_RENEW_BEFORE_DAYS) {
      const old = ca.notAfter;
      ca = { ...(await renewCa(ca, { days: caDays, now })), keyPem: caKeyPem };
      changes.push({
        item: 'ca',
        action: 'renewed',
        reason: `expires ${old.toISOString()} (in less than ${CA_RENEW_BEFORE_DAYS} days)`,
      });
      caWritten = true;
    }
  }
  if (caWritten) {
    writeAtomic(path(PKI_FILES.caKey), ca.keyPem, 0o600);
    writeAtomic(path(PKI_FILES.caCert), ca.certPem, 0o644);
  }
  tightenMode(path(PKI_FILES.caKey), 0o600);
  const caNode = new NodeX509Certificate(ca.certPem);

  // --- leaves ---
  const wantedSANs = servingSANs(opts.extraSANs);
  const ensureLeaf = async (
    item: 'serving' | 'admin',
    certFile: string,
    keyFile: string,
    extraCheck: (certPem: string) => string | undefined,
    issue: () => Promise<IssuedCert>,
  ): Promise<IssuedCert> => {
    const certPem = readIfExists(path(certFile));
    const keyPem = readIfExists(path(keyFile));
    let problem = caWritten && certPem !== undefined ? 'the CA was renewed' : undefined;
    problem ??= leafProblem(caNode, certPem, keyPem, now);
    if (problem === undefined && certPem !== undefined) problem = extraCheck(certPem);
    if (problem === undefined && certPem !== undefined && keyPem !== undefined) {
      tightenMode(path(keyFile), 0o600);
      return toIssued(certPem, keyPem);
    }
    const issued = await issue();
    writeAtomic(path(keyFile), issued.keyPem, 0o600);
    writeAtomic(path(certFile), issued.certPem, 0o644);
    changes.push({
      item,
      action: problem === 'missing' ? 'created' : 'renewed',
      reason: problem ?? 'missing',
    });
    return issued;
  };

  // A re-issued serving certificate keeps every name the previous one (from this CA) covered.
  const previousServing = readIfExists(path(PKI_FILES.servingCert));
  let previousSANs: NormalizedSANs = { dns: [], ips: [] };
  if (previousServing !== undefined) {
    try {
      if (new NodeX509Certificate(previousServing).checkIssued(caNode))
        previousSANs = readSANs(previousServing);
    } catch {
      // unreadable: ensureLeaf re-issues it with the requested names only
    }
  }
  const serving = await ensureLeaf(
    'serving',
    PKI_FILES.servingCert,
    PKI_FILES.servingKey,
    (certPem) => {
      const missing = missingSANs(readSANs(certPem), wantedSANs);
      const list = [...missing.dns, ...missing.ips];
      return list.length ? `lacks SANs ${list.join(', ')}` : undefined;
    },
    () => issueServingCert(ca, { extraSANs: unionSANs(wantedSANs, previousSANs), days: leafDays, now }),
  );

  const admin = await ensureLeaf(
    'admin',
    PKI_FILES.adminCert,
    PKI_FILES.adminKey,
    (certPem) => {
      const id = certIdentity(certPem);
      const ok = id.user === ADMIN_USER && id.groups.length === 1 && id.groups[0] === CLUSTER_ADMINS_GROUP;
      return ok
        ? undefined
        : `subject is CN=${id.user} O=${id.groups.join(',')}, want CN=${ADMIN_USER} O=${CLUSTER_ADMINS_GROUP}`;
    },
    () => issueClientCert(ca, { user: ADMIN_USER, groups: [CLUSTER_ADMINS_GROUP], days: leafDays, now }),
  );

  return {
    dir,
    ca: { certPem: ca.certPem, keyPem: ca.keyPem, serial: ca.serial, notAfter: ca.notAfter },
    serving: { ...serving, sans: readSANs(serving.certPem) },
    admin,
    changes,
    issueClientCert: (user, groups = [], days) =>
      issueClientCert(ca, { user, groups, days: days ?? leafDays, now: clock() }),
    issueNodeServingCert: (node) =>
      issueServingCert(ca, {
        commonName: `system:node:${node}`,
        extraSANs: { dns: [node] },
        days: leafDays,
        now: clock(),
      }),
    verifyClientCertChain: (certPem) => verifyClientCert(caNode, certPem, clock()),
  };
}

const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';

/** Verifies a client certificate against the CA: signature, validity at `now`, clientAuth EKU. */
export function verifyClientCert(
  caNode: NodeX509Certificate,
  certPem: string,
  now: Date,
): ClientCertVerification {
  let cert: NodeX509Certificate;
  try {
    cert = new NodeX509Certificate(certPem);
  } catch (e) {
    return { ok: false, reason: `unreadable certificate (${(e as Error).message})` };
  }
  if (!cert.checkIssued(caNode) || !cert.verify(caNode.publicKey))
    return { ok: false, reason: 'not signed by the cluster CA' };
  if (cert.ca) return { ok: false, reason: 'a CA certificate is not a client certificate' };
  const notBefore = new Date(cert.validFrom);
  const notAfter = new Date(cert.validTo);
  if (now < notBefore) return { ok: false, reason: `not valid before ${notBefore.toISOString()}` };
  if (now > notAfter) return { ok: false, reason: `expired ${notAfter.toISOString()}` };
  const eku = cert.keyUsage;
  if (eku && eku.length && !eku.includes(CLIENT_AUTH_OID))
    return { ok: false, reason: 'not valid for client authentication' };
  const { user, groups } = certIdentity(certPem);
  if (!user) return { ok: false, reason: 'no subject CN' };
  return { ok: true, user, groups, serial: normalizeSerial(cert.serialNumber), notAfter };
}
