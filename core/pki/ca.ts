/**
 * The cluster certificate authority: a self-signed ECDSA P-256 CA ("berth-ca", 10 years) and the one
 * function that signs leaf certificates with it.
 */
import { X509Certificate as NodeX509Certificate, createPrivateKey } from 'node:crypto';
import {
  CLOCK_SKEW_MS,
  SIGNING_ALGORITHM,
  addDays,
  exportPrivateKeyPem,
  generateKeyPair,
  importKeyPairPem,
  normalizeSerial,
  randomSerialHex,
  x509,
} from './x509.ts';

export const CA_COMMON_NAME = 'berth-ca';
export const CA_VALIDITY_DAYS = 3650;

export interface CertificateAuthority {
  /** PEM certificate. */
  certPem: string;
  /** PEM PKCS#8 private key. */
  keyPem: string;
  /** Hex serial number (lowercase, no leading zeros). */
  serial: string;
  notBefore: Date;
  notAfter: Date;
  certificate: x509.X509Certificate;
  keys: CryptoKeyPair;
  /** Subject key identifier (hex), copied into every leaf's authority key identifier. */
  keyId: string;
}

export interface CreateCaOptions {
  commonName?: string;
  days?: number;
  now?: Date;
  /** Re-use an existing key pair (CA renewal keeps the key, so certificates it signed stay valid). */
  keys?: CryptoKeyPair;
}

export async function createCa(opts: CreateCaOptions = {}): Promise<CertificateAuthority> {
  const now = opts.now ?? new Date();
  const keys = opts.keys ?? (await generateKeyPair());
  const ski = await x509.SubjectKeyIdentifierExtension.create(keys.publicKey);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialHex(),
    name: [{ CN: [opts.commonName ?? CA_COMMON_NAME] }],
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter: addDays(now, opts.days ?? CA_VALIDITY_DAYS),
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      ski,
    ],
  });
  return toAuthority(certificate, keys, await exportPrivateKeyPem(keys.privateKey));
}

/** Parses a stored CA. Throws when the cert is not a CA or the key does not belong to it. */
export async function loadCa(certPem: string, keyPem: string): Promise<CertificateAuthority> {
  const nodeCert = new NodeX509Certificate(certPem);
  if (!nodeCert.ca) throw new Error('the CA certificate is not a CA (basicConstraints CA:false)');
  if (!nodeCert.checkPrivateKey(createPrivateKey(keyPem)))
    throw new Error('the CA key does not match the CA certificate');
  const keys = await importKeyPairPem(keyPem);
  return toAuthority(new x509.X509Certificate(certPem), keys, keyPem);
}

/** A new self-signed CA certificate for the same key and subject, valid from now. */
export async function renewCa(
  ca: CertificateAuthority,
  opts: { days?: number; now?: Date } = {},
): Promise<CertificateAuthority> {
  const commonName = ca.certificate.subjectName.getField('CN')[0] ?? CA_COMMON_NAME;
  return createCa({ ...opts, commonName, keys: ca.keys });
}

async function toAuthority(
  certificate: x509.X509Certificate,
  keys: CryptoKeyPair,
  keyPem: string,
): Promise<CertificateAuthority> {
  const ski =
    certificate.getExtension(x509.SubjectKeyIdentifierExtension) ??
    (await x509.SubjectKeyIdentifierExtension.create(keys.publicKey));
  return {
    certPem: certificate.toString('pem'),
    keyPem,
    serial: normalizeSerial(certificate.serialNumber),
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
    certificate,
    keys,
    keyId: ski.keyId,
  };
}

export interface LeafRequest {
  /** One RDN per entry, e.g. [{ CN: ['alice'] }, { O: ['dev'] }, { O: ['ops'] }]. */
  subject: x509.JsonName;
  publicKey: CryptoKey;
  /** Leaf-specific extensions (key usage, EKU, SANs); basicConstraints, SKI and AKI are added here. */
  extensions: x509.Extension[];
  days: number;
  now?: Date;
}

/** Signs a leaf certificate. Its notAfter never goes past the CA's own notAfter. */
export async function signLeaf(ca: CertificateAuthority, req: LeafRequest): Promise<x509.X509Certificate> {
  const now = req.now ?? new Date();
  const wanted = addDays(now, req.days);
  const notAfter = wanted.getTime() > ca.notAfter.getTime() ? ca.notAfter : wanted;
  return x509.X509CertificateGenerator.create({
    serialNumber: randomSerialHex(),
    subject: req.subject,
    issuer: ca.certificate.subjectName,
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter,
    publicKey: req.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      ...req.extensions,
      await x509.SubjectKeyIdentifierExtension.create(req.publicKey),
      new x509.AuthorityKeyIdentifierExtension(ca.keyId),
    ],
  });
}
