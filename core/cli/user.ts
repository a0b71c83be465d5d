/**
 * `berth user create NAME [--group G]…` issues a client certificate (CN=NAME, O=each group) signed by the
 * cluster CA and writes <dataDir>/users/NAME.kubeconfig (printed); `berth user revoke NAME` records the
 * certificate's serial as revoked, which the running API server honours at once (401);
 * `berth user ls` lists the users. Certificates for system:masters are never issued.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commonOptions, dataDirFrom, parse } from './args.ts';
import { UsageError } from './usage-error.ts';
import { clusterFiles } from '../cluster/paths.ts';
import type { ClusterConfig } from '../cluster/cluster.ts';
import { loadCa } from '../pki/ca.ts';
import { issueClientCert } from '../pki/certs.ts';
import { PKI_FILES } from '../pki/store.ts';
import { writeKubeconfig } from '../pki/kubeconfig.ts';
import { revokeSerial } from '../auth/revocation.ts';
import { SYSTEM_MASTERS } from '../auth/types.ts';

export const USER_USAGE = `berth user create NAME [--group G]… [--days N] [--data-dir D]   client certificate + kubeconfig
  berth user revoke NAME [--data-dir D]      the certificate stops working at once
  berth user ls [--data-dir D]`;

interface UserRecord {
  name: string;
  groups: string[];
  serial: string;
  notAfter: string;
  revoked?: boolean;
}

const usersDir = (dataDir: string): string => join(dataDir, 'users');
const recordPath = (dataDir: string, name: string): string => join(usersDir(dataDir), `${name}.json`);
export const userKubeconfigPath = (dataDir: string, name: string): string =>
  join(usersDir(dataDir), `${name}.kubeconfig`);

function readRecord(dataDir: string, name: string): UserRecord | undefined {
  const p = recordPath(dataDir, name);
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as UserRecord) : undefined;
}

/** A user name is also a file name under <dataDir>/users: letters, digits, . _ @ - only. */
export function checkUserName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._@-]*$/.test(name) || name.startsWith('system:'))
    throw new UsageError(`invalid user name "${name}" (letters, digits, . _ @ -; not system:…)`);
  return name;
}

function oneName(positionals: string[], verb: string): string {
  if (positionals.length !== 1) throw new UsageError(`berth user ${verb} takes one user name`);
  return checkUserName(positionals[0]!);
}

/** Issues the certificate and writes the kubeconfig; returns its path. */
export async function createUser(
  dataDir: string,
  name: string,
  groups: string[],
  days = 365,
): Promise<string> {
  checkUserName(name);
  if (groups.includes(SYSTEM_MASTERS))
    throw new UsageError(`Berth never issues certificates for ${SYSTEM_MASTERS}`);
  const files = clusterFiles(dataDir);
  if (!existsSync(files.config))
    throw new Error(`no cluster in ${dataDir} — start one with \`berth up --data-dir ${dataDir}\``);
  const prev = readRecord(dataDir, name);
  if (prev && !prev.revoked)
    throw new Error(`user "${name}" exists (revoke it first with \`berth user revoke ${name}\`)`);
  const config = JSON.parse(readFileSync(files.config, 'utf8')) as ClusterConfig;
  const pki = join(dataDir, 'pki');
  const caCertPem = readFileSync(join(pki, PKI_FILES.caCert), 'utf8');
  const ca = await loadCa(caCertPem, readFileSync(join(pki, PKI_FILES.caKey), 'utf8'));
  const cert = await issueClientCert(ca, { user: name, groups, days, now: new Date() });
  mkdirSync(usersDir(dataDir), { recursive: true, mode: 0o700 });
  const path = userKubeconfigPath(dataDir, name);
  writeKubeconfig(path, {
    clusterName: config.name,
    server: `https://127.0.0.1:${config.apiPort}`,
    caPem: caCertPem,
    userName: `${config.name}-${name}`,
    certPem: cert.certPem,
    keyPem: cert.keyPem,
  });
  const record: UserRecord = { name, groups, serial: cert.serial, notAfter: cert.notAfter.toISOString() };
  writeFileSync(recordPath(dataDir, name), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  return path;
}

export function revokeUser(dataDir: string, name: string): UserRecord {
  const rec = readRecord(dataDir, name);
  if (!rec) throw new Error(`no user "${name}" in ${dataDir}`);
  revokeSerial(dataDir, rec.serial);
  const out = { ...rec, revoked: true };
  writeFileSync(recordPath(dataDir, name), `${JSON.stringify(out, null, 2)}\n`, { mode: 0o600 });
  return out;
}

export function listUsers(dataDir: string): UserRecord[] {
  if (!existsSync(usersDir(dataDir))) return [];
  return readdirSync(usersDir(dataDir))
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(usersDir(dataDir), f), 'utf8')) as UserRecord)
    .sort((a, b) => a.name.localeCompare(b.name));
}

export async function runUser(args: string[], print: (line: string) => void = console.log): Promise<void> {
  const [verb, ...rest] = args;
  switch (verb) {
    case 'create': {
      const { values, positionals } = parse(rest, {
        ...commonOptions,
        group: { type: 'string', multiple: true },
        days: { type: 'string' },
      });
      const days = values.days === undefined ? 365 : Number(values.days);
      if (!Number.isInteger(days) || days < 1) throw new UsageError('--days must be a positive whole number');
      const name = oneName(positionals, 'create');
      print(await createUser(dataDirFrom(values), name, values.group ?? [], days));
      return;
    }
    case 'revoke': {
      const { values, positionals } = parse(rest, commonOptions);
      const rec = revokeUser(dataDirFrom(values), oneName(positionals, 'revoke'));
      print(`user "${rec.name}" revoked (certificate serial ${rec.serial})`);
      return;
    }
    case 'ls':
    case 'list': {
      const { values, positionals } = parse(rest, commonOptions);
      if (positionals.length) throw new UsageError('berth user ls takes no arguments');
      const users = listUsers(dataDirFrom(values));
      if (!users.length) return print('no users');
      for (const u of users)
        print(
          `${u.name}\tgroups=${u.groups.join(',') || '-'}\t${u.revoked ? 'revoked' : `valid until ${u.notAfter}`}`,
        );
      return;
    }
    default:
      throw new UsageError(`unknown user command "${verb ?? ''}" (create, revoke, ls)`);
  }
}
