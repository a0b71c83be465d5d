/**
 * Client-certificate revocation: <dataDir>/pki/revoked-serials holds one serial (lower-case hex) per
 * line. `berth user revoke` appends to it; the API server's Authenticator asks `isRevoked` for every
 * certificate-authenticated request, and the file is re-read as soon as its mtime or size changes, so a
 * revocation works at once without a restart. (Kubernetes cannot revoke client certificates; Berth can.)
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CertificateCheck } from '../apiserver/authn.ts';
import { normalizeSerial } from '../pki/x509.ts';

export const REVOKED_FILE = 'revoked-serials';

export function revocationPath(dataDir: string): string {
  return join(dataDir, 'pki', REVOKED_FILE);
}

export function revokeSerial(dataDir: string, serial: string): void {
  mkdirSync(join(dataDir, 'pki'), { recursive: true, mode: 0o700 });
  appendFileSync(revocationPath(dataDir), `${normalizeSerial(serial)}\n`, { mode: 0o600 });
}

export class RevocationList implements CertificateCheck {
  private stamp = '';
  private serials = new Set<string>();

  constructor(private readonly path: string) {}

  private refresh(): void {
    let stamp = 'absent';
    if (existsSync(this.path)) {
      const st = statSync(this.path);
      stamp = `${st.mtimeMs}:${st.size}`;
    }
    if (stamp === this.stamp) return;
    this.stamp = stamp;
    this.serials =
      stamp === 'absent'
        ? new Set()
        : new Set(
            readFileSync(this.path, 'utf8')
              .split('\n')
              .map((l) => l.trim())
              .filter(Boolean)
              .map(normalizeSerial),
          );
  }

  isRevoked(serialHex: string): boolean {
    this.refresh();
    return this.serials.has(normalizeSerial(serialHex));
  }
}
