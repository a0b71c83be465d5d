/**
 * The one place that loads @peculiar/x509: installs the Reflect metadata shim it needs, points it at
 * Node's WebCrypto, and holds the key helpers every other pki module uses. Keys are ECDSA P-256 with
 * SHA-256 signatures (fast to generate; accepted by Go's crypto/tls, so by kubectl and client-go).
 */
import './reflect-metadata-shim.ts';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, createPublicKey, randomBytes, webcrypto } from 'node:crypto';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export { x509 };

const subtle = webcrypto.subtle as unknown as SubtleCrypto;

export const KEY_ALGORITHM: EcKeyImportParams = { name: 'ECDSA', namedCurve: 'P-256' };
export const SIGNING_ALGORITHM: EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };

const DAY_MS = 24 * 60 * 60 * 1000;
/** Certificates start this long before "now" so small clock differences between host and nodes don't matter. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

export function addDays(d: Date, days: number): Date {
  return new Date(d.getTime() + days * DAY_MS);
}

export function daysBetween(from: Date, to: Date): number {
  return (to.getTime() - from.getTime()) / DAY_MS;
}

export async function generateKeyPair(): Promise<CryptoKeyPair> {
  return (await subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
}

/** PEM PKCS#8 ("BEGIN PRIVATE KEY"), the form Node's tls and Go's tls.X509KeyPair both read. */
export async function exportPrivateKeyPem(key: CryptoKey): Promise<string> {
  const der = await subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/**
 * Reads a PEM private key (PKCS#8, or SEC1 "EC PRIVATE KEY") into a WebCrypto key pair usable for
 * signing. Throws when the key is not an ECDSA P-256 key.
 */
export async function importKeyPairPem(pem: string): Promise<CryptoKeyPair> {
  const keyObject = createPrivateKey(pem);
  if (keyObject.asymmetricKeyType !== 'ec' || keyObject.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error('expected an ECDSA P-256 private key');
  }
  const pkcs8 = keyObject.export({ type: 'pkcs8', format: 'der' });
  const spki = createPublicKey(keyObject).export({ type: 'spki', format: 'der' });
  const privateKey = await subtle.importKey('pkcs8', new Uint8Array(pkcs8), KEY_ALGORITHM, true, ['sign']);
  const publicKey = await subtle.importKey('spki', new Uint8Array(spki), KEY_ALGORITHM, true, ['verify']);
  return { privateKey, publicKey };
}

/** 128 random bits as hex. @peculiar/x509 encodes it as a positive minimal DER INTEGER. */
export function randomSerialHex(): string {
  for (;;) {
    const bytes = randomBytes(16);
    if (bytes.some((b) => b !== 0)) return bytes.toString('hex');
  }
}

/** Serial numbers as this module reports them: lowercase hex without leading zeros. */
export function normalizeSerial(hex: string): string {
  return hex.toLowerCase().replace(/^0+(?=.)/, '');
}
