import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { webcrypto } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KObject } from '../api/object.ts';
import { StatusError } from '../api/status.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';
import { startCluster, type RunningCluster } from '../cluster/cluster.ts';
import { x509 } from '../pki/x509.ts';
import { csrStatus } from '../registry/certificates/certificatesigningrequests.ts';
import { waitFor } from '../testing/wait.ts';
import { legacySecretToken } from './serviceaccount-token.ts';

const CSRS: ResourceRef = {
  group: 'certificates.k8s.io',
  version: 'v1',
  resource: 'certificatesigningrequests',
};
const SECRETS: ResourceRef = { group: '', version: 'v1', resource: 'secrets' };
const SAS: ResourceRef = { group: '', version: 'v1', resource: 'serviceaccounts' };

let dir: string;
let cluster: RunningCluster;
let client: InProcessClient;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-csr-'));
  cluster = await startCluster({ dataDir: dir, apiPort: 0, disableScheduler: true });
  client = cluster.controllerClient;
  await waitFor('default service account', () => client.get(SAS, 'default', 'default'));
});
after(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function csrPem(subject: string): Promise<string> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  return (
    await x509.Pkcs10CertificateRequestGenerator.create({ name: subject, keys, signingAlgorithm: alg })
  ).toString('pem');
}

async function createCsr(
  name: string,
  subject: string,
  usages: string[],
  expirationSeconds?: number,
): Promise<void> {
  client.create(CSRS, '', {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name },
    spec: {
      request: Buffer.from(await csrPem(subject)).toString('base64'),
      signerName: 'kubernetes.io/kube-apiserver-client',
      usages,
      ...(expirationSeconds ? { expirationSeconds } : {}),
    },
  });
}

/** What PUT .../approval does: only the Approved/Denied conditions change. */
function approve(name: string, type = 'Approved'): KObject {
  const s = cluster.server.table.lookup('certificates.k8s.io', 'v1', 'certificatesigningrequests')!;
  const csr = client.get(CSRS, '', name);
  const ctx = cluster.server.context({ username: 'system:kube-controller-manager', groups: [] });
  return cluster.server.registry.update(
    s,
    '',
    name,
    { ...csr, status: { conditions: [{ type, status: 'True', reason: 'Test' }], certificate: 'ignored' } },
    { ...ctx, subresource: 'approval' },
    { subresource: 'status' },
  ).object;
}

test('an approved client CSR is signed with the cluster CA for the requested duration', async () => {
  await createCsr('good', 'CN=frank, O=devs, O=ops', ['digital signature', 'client auth'], 1200);
  const created = client.get(CSRS, '', 'good');
  assert.equal((created['spec'] as { username: string }).username, 'system:kube-controller-manager');
  const approved = approve('good');
  assert.equal(csrStatus(approved).certificate, undefined, '/approval cannot set the certificate');
  assert.equal(csrStatus(approved).conditions?.[0]?.type, 'Approved');
  assert.ok(csrStatus(approved).conditions?.[0]?.lastUpdateTime);
  const pem = Buffer.from(
    await waitFor('certificate', () => csrStatus(client.get(CSRS, '', 'good')).certificate),
    'base64',
  ).toString();
  const cert = new x509.X509Certificate(pem);
  assert.equal(cert.subjectName.getField('CN')[0], 'frank');
  assert.deepEqual(cert.subjectName.getField('O'), ['devs', 'ops']);
  const left = (cert.notAfter.getTime() - Date.now()) / 1000;
  assert.ok(left > 1100 && left <= 1200, `${left}`);
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  assert.deepEqual([...(eku?.usages ?? [])], [x509.ExtendedKeyUsage.clientAuth]);
  const ca = new x509.X509Certificate(cluster.server.opts.tls.ca);
  assert.ok(await cert.verify({ publicKey: ca.publicKey, signatureOnly: true }));
  // The Approved condition survives a /status write that leaves it out.
  const after = client.update(
    CSRS,
    '',
    { ...client.get(CSRS, '', 'good'), status: { conditions: [] } },
    'status',
  );
  assert.equal(csrStatus(after).conditions?.[0]?.type, 'Approved');
  assert.ok(csrStatus(after).certificate, 'the certificate cannot be removed');
});

test('an approved CSR with server usages fails; a denied one is never signed', async () => {
  await createCsr('server', 'CN=web', ['server auth']);
  approve('server');
  const failed = await waitFor('Failed', () =>
    csrStatus(client.get(CSRS, '', 'server')).conditions?.find((c) => c.type === 'Failed'),
  );
  assert.equal(failed.reason, 'SignerValidationFailure');
  assert.match(failed.message ?? '', /invalid usage for client certificate: server auth/);
  await createCsr('denied', 'CN=grace', ['client auth']);
  approve('denied', 'Denied');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(csrStatus(client.get(CSRS, '', 'denied')).certificate, undefined);
  assert.throws(() => approve('denied', 'Approved'), /Denied condition/);
});

test('system:masters is refused at create; spec is immutable', async () => {
  await assert.rejects(
    createCsr('masters', 'CN=mallory, O=system:masters', ['client auth']),
    (e) =>
      e instanceof StatusError && e.code === 403 && /system:masters group is not allowed/.test(e.message),
  );
  const csr = client.get(CSRS, '', 'good');
  assert.throws(
    () => client.update(CSRS, '', { ...csr, spec: { ...(csr['spec'] as object), usages: ['client auth'] } }),
    /field is immutable/,
  );
});

test('legacy token Secrets: filled for an existing account, removed with it or without it', async () => {
  client.create(SAS, 'default', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot' } });
  const secret = (name: string, sa: string): KObject => ({
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/service-account-token',
    metadata: { name, annotations: { 'kubernetes.io/service-account.name': sa } },
  });
  client.create(SECRETS, 'default', secret('robot-token', 'robot'));
  const filled = await waitFor('token', () => {
    const s = client.get(SECRETS, 'default', 'robot-token');
    return legacySecretToken(s) ? s : undefined;
  });
  const sa = client.get(SAS, 'default', 'robot');
  assert.equal(filled.metadata.annotations?.['kubernetes.io/service-account.uid'], sa.metadata.uid);
  const token = legacySecretToken(filled)!;
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<
    string,
    string
  >;
  assert.equal(claims['kubernetes.io/serviceaccount/secret.name'], 'robot-token');
  assert.equal(claims['exp'], undefined, 'legacy tokens do not expire');

  client.create(SECRETS, 'default', secret('orphan-token', 'nobody'));
  await waitFor('orphan deleted', () => {
    try {
      client.get(SECRETS, 'default', 'orphan-token');
      return false;
    } catch (e) {
      return e instanceof StatusError && e.code === 404;
    }
  });
  client.delete(SAS, 'default', 'robot');
  await waitFor('token secret deleted with its account', () => {
    try {
      client.get(SECRETS, 'default', 'robot-token');
      return false;
    } catch (e) {
      return e instanceof StatusError && e.code === 404;
    }
  });
});
