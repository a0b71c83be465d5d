/**
 * Encryption at rest for Secrets, as kube-apiserver's EncryptionConfiguration `aesgcm` provider: every
 * stored Secret is `k8s:enc:aesgcm:v1:<keyname>:` + 12-byte nonce + AES-256-GCM ciphertext + 16-byte tag,
 * with the object's store key as additional authenticated data (a value cannot be moved to another key).
 * Keys live in `<data-dir>/encryption-keys.json` (mode 0600), made at first start. Rotation: the first key
 * encrypts new writes, every listed key decrypts; `rotateEncryptionKey` puts a fresh key first, and each
 * Secret is re-encrypted with it on its next write. Values stored before encryption (plain JSON) are still
 * read, and encrypted when next written.
 */
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { StoreOptions } from './types.ts';

export const ENCRYPTION_KEYS_FILE = 'encryption-keys.json';
export const AESGCM_PREFIX = 'k8s:enc:aesgcm:v1:';
/** Store key prefixes whose values are encrypted (the `secrets` resource, as kube-apiserver is usually set up). */
export const ENCRYPTED_PREFIXES: readonly string[] = ['/core/secrets/'];

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;

export interface EncryptionKey {
  name: string;
  /** 32 bytes (AES-256). */
  secret: Buffer;
}

interface KeyFile {
  keys: { name: string; secret: string }[];
}

export type StoreTransformer = NonNullable<StoreOptions['transformer']>;

export const encryptionKeysPath = (dataDir: string): string => join(dataDir, ENCRYPTION_KEYS_FILE);

function parseKeyFile(text: string, path: string): EncryptionKey[] {
  const parsed = JSON.parse(text) as Partial<KeyFile>;
  const keys = (parsed.keys ?? []).map((k) => ({ name: k.name, secret: Buffer.from(k.secret, 'base64') }));
  if (!keys.length) throw new Error(`${path}: no encryption keys`);
  for (const k of keys) {
    if (!KEY_NAME_RE.test(k.name)) throw new Error(`${path}: invalid key name ${JSON.stringify(k.name)}`);
    if (k.secret.length !== 32) throw new Error(`${path}: key ${k.name} is not 32 bytes`);
  }
  return keys;
}

function writeKeyFile(path: string, keys: readonly EncryptionKey[]): void {
  const body: KeyFile = { keys: keys.map((k) => ({ name: k.name, secret: k.secret.toString('base64') })) };
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** The data dir's keys (first = the one new writes use), creating the file with one key the first time. */
export function loadOrCreateEncryptionKeys(dataDir: string): EncryptionKey[] {
  const path = encryptionKeysPath(dataDir);
  if (!existsSync(path)) writeKeyFile(path, [{ name: 'key1', secret: randomBytes(32) }]);
  chmodSync(path, 0o600);
  return parseKeyFile(readFileSync(path, 'utf8'), path);
}

/**
 * Key rotation: adds a fresh key in front (new writes use it; older keys still decrypt). Takes effect at
 * the next start of the cluster. Returns the new key's name.
 */
export function rotateEncryptionKey(dataDir: string): string {
  const keys = loadOrCreateEncryptionKeys(dataDir);
  const used = new Set(keys.map((k) => k.name));
  let n = keys.length + 1;
  while (used.has(`key${n}`)) n++;
  const name = `key${n}`;
  writeKeyFile(encryptionKeysPath(dataDir), [{ name, secret: randomBytes(32) }, ...keys]);
  return name;
}

/** Drops keys no longer needed (after every Secret was rewritten with the first one). */
export function pruneEncryptionKeys(dataDir: string, keep: readonly string[]): void {
  const keys = loadOrCreateEncryptionKeys(dataDir);
  const kept = keys.filter((k, i) => i === 0 || keep.includes(k.name));
  writeKeyFile(encryptionKeysPath(dataDir), kept);
}

const encrypted = (storeKey: string): boolean => ENCRYPTED_PREFIXES.some((p) => storeKey.startsWith(p));

/** The store transformer: AES-GCM for Secrets with the first key, every key for reading. */
export function aesGcmTransformer(keys: readonly EncryptionKey[]): StoreTransformer {
  const [writeKey] = keys;
  if (!writeKey) throw new Error('aesgcm: at least one key is needed');
  const byName = new Map(keys.map((k) => [k.name, k.secret]));
  return {
    encode(storeKey, json) {
      if (!encrypted(storeKey)) return json;
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', writeKey.secret, nonce);
      cipher.setAAD(Buffer.from(storeKey, 'utf8'));
      const body = Buffer.concat([cipher.update(json, 'utf8'), cipher.final()]);
      return Buffer.concat([
        Buffer.from(`${AESGCM_PREFIX}${writeKey.name}:`, 'utf8'),
        nonce,
        body,
        cipher.getAuthTag(),
      ]);
    },
    decode(storeKey, stored) {
      const buf = typeof stored === 'string' ? Buffer.from(stored, 'utf8') : stored;
      if (!buf.subarray(0, AESGCM_PREFIX.length).equals(Buffer.from(AESGCM_PREFIX)))
        return buf.toString('utf8'); // written before encryption was on
      const nameEnd = buf.indexOf(0x3a, AESGCM_PREFIX.length);
      if (nameEnd < 0) throw new Error(`aesgcm: malformed value at ${storeKey}`);
      const name = buf.subarray(AESGCM_PREFIX.length, nameEnd).toString('utf8');
      const secret = byName.get(name);
      if (!secret) throw new Error(`aesgcm: ${storeKey} is encrypted with unknown key ${name}`);
      const rest = buf.subarray(nameEnd + 1);
      if (rest.length < NONCE_BYTES + TAG_BYTES) throw new Error(`aesgcm: truncated value at ${storeKey}`);
      const decipher = createDecipheriv('aes-256-gcm', secret, rest.subarray(0, NONCE_BYTES));
      decipher.setAAD(Buffer.from(storeKey, 'utf8'));
      decipher.setAuthTag(rest.subarray(rest.length - TAG_BYTES));
      return Buffer.concat([
        decipher.update(rest.subarray(NONCE_BYTES, rest.length - TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    },
  };
}

/** The name of the key a stored value was encrypted with, or undefined for a plain value. */
export function storedKeyName(stored: Buffer | string): string | undefined {
  const s = (typeof stored === 'string' ? stored : stored.subarray(0, 128).toString('latin1')).slice(0, 128);
  if (!s.startsWith(AESGCM_PREFIX)) return undefined;
  const end = s.indexOf(':', AESGCM_PREFIX.length);
  return end < 0 ? undefined : s.slice(AESGCM_PREFIX.length, end);
}
