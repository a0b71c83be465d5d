import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CLUSTER_ADMINS_GROUP, SYSTEM_MASTERS } from '../auth/types.ts';
import { createCa } from './ca.ts';
import { issueClientCert } from './certs.ts';
import { ADMIN_USER, PKI_FILES, loadOrCreatePki } from './store.ts';

const DAY = 24 * 60 * 60 * 1000;
const roots: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'berth-pki-'));
  roots.push(d);
  return d;
}
after(() => {
  for (const d of roots) rmSync(d, { recursive: true, force: true });
});

const mode = (p: string): number => statSync(p).mode & 0o777;
const read = (dir: string, f: string): string => readFileSync(join(dir, 'pki', f), 'utf8');
const items = (changes: { item: string; action: string }[]): string[] =>
  changes.map((c) => `${c.item}:${c.action}`).sort();

describe('loadOrCreatePki', () => {
  test('creates the CA, serving and admin certificates with private file modes', async () => {
    const dir = tempDir();
    const pki = await loadOrCreatePki(dir, {});
    assert.deepEqual(items(pki.changes), ['admin:created', 'ca:created', 'serving:created']);
    assert.equal(mode(pki.dir), 0o700);
    for (const f of [PKI_FILES.caKey, PKI_FILES.servingKey, PKI_FILES.adminKey])
      assert.equal(mode(join(pki.dir, f)), 0o600, f);
    assert.equal(read(dir, PKI_FILES.caCert), pki.ca.certPem);
    assert.equal(read(dir, PKI_FILES.servingKey), pki.serving.keyPem);
    assert.equal(read(dir, PKI_FILES.adminCert), pki.admin.certPem);

    const ca = new X509Certificate(pki.ca.certPem);
    const admin = new X509Certificate(pki.admin.certPem);
    assert.ok(admin.checkIssued(ca) && admin.verify(ca.publicKey));
    assert.equal(admin.subject, `CN=${ADMIN_USER}\nO=${CLUSTER_ADMINS_GROUP}`);
    assert.ok(!admin.subject.includes(SYSTEM_MASTERS));
    assert.equal(pki.admin.serial, admin.serialNumber.toLowerCase().replace(/^0+/, ''));
    const serving = new X509Certificate(pki.serving.certPem);
    assert.ok(serving.checkIssued(ca) && serving.verify(ca.publicKey));
    assert.ok(pki.serving.sans.ips.includes('127.0.0.1'));
    assert.ok(pki.serving.sans.dns.includes('kubernetes.default.svc.cluster.local'));
  });

  test('reuses what is on disk', async () => {
    const dir = tempDir();
    const first = await loadOrCreatePki(dir, {});
    chmodSync(join(first.dir, PKI_FILES.adminKey), 0o644);
    const second = await loadOrCreatePki(dir, {});
    assert.deepEqual(second.changes, []);
    assert.equal(second.ca.serial, first.ca.serial);
    assert.equal(second.serving.serial, first.serving.serial);
    assert.equal(second.admin.serial, first.admin.serial);
    assert.equal(second.admin.keyPem, first.admin.keyPem);
    assert.equal(second.admin.notAfter.getTime(), first.admin.notAfter.getTime());
    assert.equal(mode(join(dir, 'pki', PKI_FILES.adminKey)), 0o600, 'a widened key mode is tightened again');
  });

  test('renews leaves that expire within 30 days, but not the CA', async () => {
    const dir = tempDir();
    const first = await loadOrCreatePki(dir, {});
    const later = new Date(Date.now() + 340 * DAY);
    const second = await loadOrCreatePki(dir, { now: () => later });
    assert.deepEqual(items(second.changes), ['admin:renewed', 'serving:renewed']);
    assert.equal(second.ca.serial, first.ca.serial);
    assert.notEqual(second.admin.serial, first.admin.serial);
    assert.notEqual(second.serving.serial, first.serving.serial);
    assert.ok(second.admin.notAfter.getTime() > later.getTime() + 364 * DAY);
    const third = await loadOrCreatePki(dir, { now: () => later });
    assert.deepEqual(third.changes, []);
  });

  test('renews a short-lived leaf on the next load (validity override)', async () => {
    const dir = tempDir();
    const first = await loadOrCreatePki(dir, { leafValidityDays: 10 });
    assert.ok(first.admin.notAfter.getTime() < Date.now() + 11 * DAY);
    const second = await loadOrCreatePki(dir, {});
    assert.deepEqual(items(second.changes), ['admin:renewed', 'serving:renewed']);
    assert.match(second.changes[0]?.reason ?? '', /expires/);
  });

  test('re-issues the serving certificate with the union when a requested SAN is missing', async () => {
    const dir = tempDir();
    await loadOrCreatePki(dir, {});
    const withIp = await loadOrCreatePki(dir, { extraSANs: { ips: ['172.18.0.2'] } });
    assert.deepEqual(items(withIp.changes), ['serving:renewed']);
    assert.match(withIp.changes[0]?.reason ?? '', /172\.18\.0\.2/);
    const withDns = await loadOrCreatePki(dir, { extraSANs: { dns: ['node-1.berth'] } });
    assert.deepEqual(items(withDns.changes), ['serving:renewed']);
    const c = new X509Certificate(withDns.serving.certPem);
    assert.equal(c.checkIP('172.18.0.2'), '172.18.0.2', 'earlier extra SAN kept');
    assert.equal(c.checkHost('node-1.berth'), 'node-1.berth');
    const again = await loadOrCreatePki(dir, { extraSANs: { ips: ['172.18.0.2'] } });
    assert.deepEqual(again.changes, [], 'a subset of the existing SANs needs no new certificate');
  });

  test('renews the CA (same key) when less than a year is left, and re-signs the leaves', async () => {
    const dir = tempDir();
    const first = await loadOrCreatePki(dir, { caValidityDays: 300 });
    const second = await loadOrCreatePki(dir, {});
    assert.deepEqual(items(second.changes), ['admin:renewed', 'ca:renewed', 'serving:renewed']);
    assert.notEqual(second.ca.serial, first.ca.serial);
    assert.equal(second.ca.keyPem, first.ca.keyPem);
    assert.ok(second.ca.notAfter.getTime() > Date.now() + 3600 * DAY);
    const ca = new X509Certificate(second.ca.certPem);
    const admin = new X509Certificate(second.admin.certPem);
    assert.ok(admin.checkIssued(ca) && admin.verify(ca.publicKey));
    // A kubeconfig still holding the old CA certificate trusts the new serving certificate.
    const oldCa = new X509Certificate(first.ca.certPem);
    assert.ok(new X509Certificate(second.serving.certPem).verify(oldCa.publicKey));
  });

  test('repairs broken, foreign or wrongly-named leaves', async () => {
    const dir = tempDir();
    const first = await loadOrCreatePki(dir, {});
    writeFileSync(join(first.dir, PKI_FILES.servingCert), 'garbage');
    const otherCa = await createCa();
    const foreign = await issueClientCert(otherCa, { user: ADMIN_USER, groups: [CLUSTER_ADMINS_GROUP] });
    writeFileSync(join(first.dir, PKI_FILES.adminCert), foreign.certPem);
    writeFileSync(join(first.dir, PKI_FILES.adminKey), foreign.keyPem);
    const second = await loadOrCreatePki(dir, {});
    assert.deepEqual(items(second.changes), ['admin:renewed', 'serving:renewed']);
    assert.match(
      second.changes.find((c) => c.item === 'admin')?.reason ?? '',
      /not signed by the cluster CA/,
    );

    // An admin certificate in system:masters (or any other subject) is replaced.
    const masters = await second.issueClientCert(ADMIN_USER, [SYSTEM_MASTERS]);
    writeFileSync(join(first.dir, PKI_FILES.adminCert), masters.certPem);
    writeFileSync(join(first.dir, PKI_FILES.adminKey), masters.keyPem);
    const third = await loadOrCreatePki(dir, {});
    assert.deepEqual(items(third.changes), ['admin:renewed']);
    assert.equal(
      new X509Certificate(third.admin.certPem).subject,
      `CN=${ADMIN_USER}\nO=${CLUSTER_ADMINS_GROUP}`,
    );

    // A key that does not match its certificate.
    writeFileSync(join(first.dir, PKI_FILES.adminKey), masters.keyPem);
    const fourth = await loadOrCreatePki(dir, {});
    assert.match(fourth.changes.find((c) => c.item === 'admin')?.reason ?? '', /key does not match/);
  });

  test('never replaces a CA whose key is missing; re-signs a CA certificate that is missing', async () => {
    const dir = tempDir();
    const first = await loadOrCreatePki(dir, {});
    const key = read(dir, PKI_FILES.caKey);
    unlinkSync(join(first.dir, PKI_FILES.caKey));
    await assert.rejects(loadOrCreatePki(dir, {}), /ca\.key is missing/);
    writeFileSync(join(first.dir, PKI_FILES.caKey), key, { mode: 0o600 });
    unlinkSync(join(first.dir, PKI_FILES.caCert));
    const second = await loadOrCreatePki(dir, {});
    assert.deepEqual(items(second.changes), ['admin:renewed', 'ca:renewed', 'serving:renewed']);
    assert.equal(second.ca.keyPem, key);
  });

  test('issues and verifies client certificates', async () => {
    const dir = tempDir();
    let now = new Date();
    const pki = await loadOrCreatePki(dir, { now: () => now });
    const bob = await pki.issueClientCert('bob', ['dev', 'ops'], 5);
    assert.deepEqual(pki.verifyClientCertChain(bob.certPem), {
      ok: true,
      user: 'bob',
      groups: ['dev', 'ops'],
      serial: bob.serial,
      notAfter: bob.notAfter,
    });
    assert.equal(pki.verifyClientCertChain(pki.admin.certPem).ok, true);

    const otherCa = await createCa();
    const stranger = await issueClientCert(otherCa, { user: 'bob' });
    assert.deepEqual(pki.verifyClientCertChain(stranger.certPem), {
      ok: false,
      reason: 'not signed by the cluster CA',
    });
    const serverOnly = pki.verifyClientCertChain(pki.serving.certPem);
    assert.equal(serverOnly.ok, false);
    assert.equal(pki.verifyClientCertChain('nope').ok, false);

    now = new Date(Date.now() + 6 * DAY);
    const expired = pki.verifyClientCertChain(bob.certPem);
    assert.equal(expired.ok, false);
    assert.match(expired.ok ? '' : expired.reason, /expired/);
  });
});
