import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { describe, test } from 'node:test';
import { CA_COMMON_NAME, createCa, loadCa, renewCa } from './ca.ts';
import {
  KUBERNETES_SERVICE_IP,
  certIdentity,
  issueClientCert,
  issueServingCert,
  missingSANs,
  normalizeIp,
  readSANs,
  servingSANs,
} from './certs.ts';

const DAY = 24 * 60 * 60 * 1000;

describe('cluster CA', () => {
  test('is a self-signed P-256 CA named berth-ca, valid for 10 years', async () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const ca = await createCa({ now });
    const c = new X509Certificate(ca.certPem);
    assert.equal(c.ca, true);
    assert.equal(c.subject, `CN=${CA_COMMON_NAME}`);
    assert.equal(c.issuer, c.subject);
    assert.ok(c.verify(c.publicKey));
    assert.equal(c.publicKey.asymmetricKeyType, 'ec');
    assert.equal(c.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.ok(c.checkPrivateKey(createPrivateKey(ca.keyPem)));
    assert.match(ca.keyPem, /^-----BEGIN PRIVATE KEY-----/);
    assert.equal(new Date(c.validTo).getTime(), now.getTime() + 3650 * DAY);
    assert.ok(new Date(c.validFrom).getTime() < now.getTime());
    assert.equal(ca.serial, c.serialNumber.toLowerCase().replace(/^0+/, ''));
    const text = c.toLegacyObject();
    assert.ok(text.serialNumber.length >= 30, 'serial carries ~128 random bits');
  });

  test('loads back from PEM and refuses a key that is not its own', async () => {
    const a = await createCa();
    const b = await createCa();
    const loaded = await loadCa(a.certPem, a.keyPem);
    assert.equal(loaded.serial, a.serial);
    assert.equal(loaded.keyId, a.keyId);
    await assert.rejects(loadCa(a.certPem, b.keyPem), /does not match/);
  });

  test('renewal keeps key and subject, so certificates it signed before still verify', async () => {
    const ca = await createCa({ now: new Date(Date.now() - 3400 * DAY) });
    const leaf = await issueClientCert(ca, { user: 'u' });
    const renewed = await renewCa(ca);
    assert.notEqual(renewed.serial, ca.serial);
    assert.ok(renewed.notAfter.getTime() > ca.notAfter.getTime());
    const nc = new X509Certificate(renewed.certPem);
    const nl = new X509Certificate(leaf.certPem);
    assert.ok(nl.checkIssued(nc));
    assert.ok(nl.verify(nc.publicKey));
  });
});

describe('serving certificate', () => {
  test('is signed by the CA and covers localhost, kubernetes.*, loopback and the service IP', async () => {
    const ca = await createCa();
    const s = await issueServingCert(ca, {
      extraSANs: { dns: ['berth.local'], ips: ['172.18.0.2', '2001:DB8::0:1'] },
    });
    const c = new X509Certificate(s.certPem);
    const caCert = new X509Certificate(ca.certPem);
    assert.ok(c.checkIssued(caCert));
    assert.ok(c.verify(caCert.publicKey));
    assert.equal(c.ca, false);
    assert.ok(c.checkPrivateKey(createPrivateKey(s.keyPem)));
    const san = c.subjectAltName ?? '';
    for (const want of [
      'IP Address:127.0.0.1',
      `IP Address:${KUBERNETES_SERVICE_IP}`,
      'IP Address:172.18.0.2',
      'DNS:localhost',
      'DNS:kubernetes',
      'DNS:kubernetes.default',
      'DNS:kubernetes.default.svc',
      'DNS:kubernetes.default.svc.cluster.local',
      'DNS:berth.local',
    ]) {
      assert.ok(san.includes(want), `${want} in ${san}`);
    }
    assert.equal(c.checkHost('localhost'), 'localhost');
    assert.equal(c.checkHost('kubernetes.default.svc'), 'kubernetes.default.svc');
    assert.equal(c.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(c.checkIP('::1'), '::1');
    assert.equal(c.checkIP('2001:db8::1'), '2001:db8::1');
    assert.equal(c.checkIP('10.0.0.1'), undefined);
    assert.deepEqual(c.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    const days = (s.notAfter.getTime() - Date.now()) / DAY;
    assert.ok(days > 364 && days <= 365, `1 year validity, got ${days}`);
    assert.equal(s.serial, c.serialNumber.toLowerCase().replace(/^0+/, ''));
  });

  test('SAN helpers normalize and compare', () => {
    assert.equal(normalizeIp('0:0:0:0:0:0:0:1'), '::1');
    assert.equal(normalizeIp('2001:DB8:0::1'), '2001:db8::1');
    assert.throws(() => normalizeIp('nope'), /not an IP/);
    assert.throws(() => servingSANs({ dns: ['bad name'] }), /not a DNS name/);
    const d = servingSANs({ dns: ['Localhost', 'x.example'], ips: ['0:0::1'] });
    assert.equal(d.dns.filter((n) => n === 'localhost').length, 1);
    assert.equal(d.ips.filter((n) => n === '::1').length, 1);
    assert.deepEqual(missingSANs(d, { dns: ['x.example', 'y.example'], ips: ['::1', '10.1.2.3'] }), {
      dns: ['y.example'],
      ips: ['10.1.2.3'],
    });
  });
});

describe('client certificate', () => {
  test('has CN=user, one O per group, clientAuth, and verifies against the CA', async () => {
    const ca = await createCa();
    const cc = await issueClientCert(ca, { user: 'alice', groups: ['dev', 'ops', 'berth:cluster-admins'] });
    const c = new X509Certificate(cc.certPem);
    const caCert = new X509Certificate(ca.certPem);
    assert.ok(c.checkIssued(caCert));
    assert.ok(c.verify(caCert.publicKey));
    assert.equal(c.subject, 'CN=alice\nO=dev\nO=ops\nO=berth:cluster-admins');
    assert.deepEqual(c.keyUsage, ['1.3.6.1.5.5.7.3.2']);
    assert.deepEqual(
      { ...c.toLegacyObject().subject },
      { CN: 'alice', O: ['dev', 'ops', 'berth:cluster-admins'] },
    );
    assert.deepEqual(certIdentity(cc.certPem), {
      user: 'alice',
      groups: ['dev', 'ops', 'berth:cluster-admins'],
    });
    assert.deepEqual(readSANs(cc.certPem), { dns: [], ips: [] });
  });

  test('serials are unique and validity can be set', async () => {
    const ca = await createCa();
    const a = await issueClientCert(ca, { user: 'a', days: 2 });
    const b = await issueClientCert(ca, { user: 'a', days: 2 });
    assert.notEqual(a.serial, b.serial);
    assert.ok(a.notAfter.getTime() - Date.now() < 2 * DAY + 1000);
  });

  test('never outlives the CA', async () => {
    const ca = await createCa({ days: 10 });
    const cc = await issueClientCert(ca, { user: 'u', days: 365 });
    assert.equal(cc.notAfter.getTime(), ca.notAfter.getTime());
  });

  test('rejects an empty user', async () => {
    const ca = await createCa();
    await assert.rejects(issueClientCert(ca, { user: '' }), /user name/);
  });
});
