/**
 * Issue 7 "Protection" and the credential APIs with real kubectl 1.27 and 1.33 against
 * `berth up --nodes 0`: Secret values absent from the SQLite files, the audit log (who did what, no
 * secret data), CertificateSigningRequests (`kubectl certificate approve|deny`, the issued certificate
 * works as that user, system:masters refused), legacy service-account token Secrets usable as bearer
 * tokens, and a ServiceAccount's imagePullSecrets copied to new pods.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';
import { join } from 'node:path';
import { startBerth, type BerthProcess } from './harness/berth.ts';
import { E2E_VERSIONS, kubectlRunner, requireKubectl, type KubectlRunner } from './harness/kubectl.ts';
import { x509 } from '../core/pki/x509.ts';
import { eventually } from './harness/wait.ts';

let b: BerthProcess;
before(async () => {
  b = await startBerth();
});
after(async () => {
  await b?.stop();
  b?.cleanup();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A P-256 key and a PEM CSR for CN=user, O=groups. */
async function makeCsr(user: string, groups: string[]): Promise<{ csrPem: string; keyPem: string }> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const name = [`CN=${user}`, ...groups.map((g) => `O=${g}`)].join(', ');
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name, keys, signingAlgorithm: alg });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END PRIVATE KEY-----\n`;
  return { csrPem: csr.toString('pem'), keyPem };
}

const csrManifest = (name: string, csrPem: string, usages: string[], expirationSeconds?: number): string =>
  JSON.stringify({
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name },
    spec: {
      request: Buffer.from(csrPem).toString('base64'),
      signerName: 'kubernetes.io/kube-apiserver-client',
      usages,
      ...(expirationSeconds ? { expirationSeconds } : {}),
    },
  });

for (const version of E2E_VERSIONS) {
  describe(`kubectl ${version}`, { skip: requireKubectl(version) }, () => {
    let k: KubectlRunner;
    const v = version.replace('.', '-');
    const ca = () => join(b.dataDir, 'pki', 'ca.crt');
    /** Flags that make kubectl talk to the cluster with only these credentials. */
    const creds = (...flags: string[]) => [
      '--server',
      b.url,
      '--certificate-authority',
      ca(),
      '--kubeconfig',
      '/dev/null',
      ...flags,
    ];
    before(() => {
      k = kubectlRunner(version, b.kubeconfig, b.home);
    });

    it('keeps Secret values out of the SQLite files and out of the audit log, which records who did what', async () => {
      const value = `s3cr3t-${v}-${Math.random().toString(36).slice(2)}`;
      const encoded = Buffer.from(value).toString('base64');
      await k.ok([
        'create',
        'secret',
        'generic',
        `enc-${v}`,
        `--from-literal=password=${value}`,
        '-n',
        'default',
      ]);
      const got = await k.ok([
        'get',
        'secret',
        `enc-${v}`,
        '-n',
        'default',
        '-o',
        'jsonpath={.data.password}',
      ]);
      assert.equal(got, encoded);
      const db = join(b.dataDir, 'berth.db');
      const files = [db, `${db}-wal`, `${db}-shm`].filter((p) => existsSync(p));
      assert.ok(files.length >= 2, `database files: ${files.join(', ')}`);
      for (const f of files) {
        const raw = readFileSync(f);
        assert.ok(!raw.includes(value), `${f} holds the value`);
        assert.ok(!raw.includes(encoded), `${f} holds the base64 value`);
      }
      assert.ok(
        files.some((f) => readFileSync(f).includes('k8s:enc:aesgcm:v1:')),
        'encrypted envelopes are on disk',
      );
      const log = await eventually('audit lines for the secret', async () => {
        const text = readFileSync(join(b.dataDir, 'audit.log'), 'utf8');
        return text.includes(`"name":"enc-${v}"`) && /"verb":"get"/.test(text) ? text : undefined;
      });
      assert.ok(!log.includes(value) && !log.includes(encoded), 'the audit log holds secret data');
      const events = log
        .trim()
        .split('\n')
        .map(
          (l) =>
            JSON.parse(l) as {
              apiVersion: string;
              level: string;
              stage: string;
              verb: string;
              user: { username: string };
              objectRef?: { resource: string; name?: string; namespace?: string };
              responseStatus: { code: number };
            },
        );
      const forSecret = events.filter(
        (e) => e.objectRef?.resource === 'secrets' && e.objectRef.name === `enc-${v}`,
      );
      const byVerb = (verb: string) => forSecret.find((e) => e.verb === verb);
      for (const [verb, code] of [
        ['create', 201],
        ['get', 200],
      ] as const) {
        const e = byVerb(verb);
        assert.ok(e, `no ${verb} event`);
        assert.equal(e.user.username, 'berth-admin');
        assert.equal(e.objectRef?.namespace, 'default');
        assert.equal(e.responseStatus.code, code);
        assert.equal(e.apiVersion, 'audit.k8s.io/v1');
        assert.equal(e.level, 'Metadata');
        assert.equal(e.stage, 'ResponseComplete');
      }
    });

    it('signs an approved CSR; the certificate works for that user with kubectl', async () => {
      const user = `carol-${v}`;
      const { csrPem, keyPem } = await makeCsr(user, ['devs']);
      const name = `csr-${v}`;
      await k.ok(['apply', '-f', '-'], {
        input: csrManifest(name, csrPem, ['digital signature', 'client auth'], 3600),
      });
      const pending = await k.ok(['get', 'csr', name]);
      assert.match(pending, /Pending/);
      assert.match(pending, /kubernetes\.io\/kube-apiserver-client\s+berth-admin\s+60m\s+Pending/);
      assert.match(await k.ok(['certificate', 'approve', name]), /approved/);
      const certB64 = await eventually('the issued certificate', async () =>
        (await k.ok(['get', 'csr', name, '-o', 'jsonpath={.status.certificate}'])).trim(),
      );
      assert.match(await k.ok(['get', 'csr', name]), /Approved,Issued/);
      const certPem = Buffer.from(certB64, 'base64').toString();
      const cert = new x509.X509Certificate(certPem);
      const lifetime = (cert.notAfter.getTime() - Date.now()) / 1000;
      assert.ok(lifetime > 3000 && lifetime <= 3600, `expirationSeconds honoured (${lifetime} s left)`);
      const certFile = join(b.home, `${user}.crt`);
      const keyFile = join(b.home, `${user}.key`);
      writeFileSync(certFile, certPem);
      writeFileSync(keyFile, keyPem, { mode: 0o600 });
      const asCarol = creds('--client-certificate', certFile, '--client-key', keyFile);
      const who = await k.ok([...asCarol, 'auth', 'whoami']);
      assert.match(who, new RegExp(`Username\\s+${user}`));
      assert.match(who, /Groups\s+\[devs system:authenticated\]/);
      const denied = await k.run([...asCarol, 'get', 'configmaps', '-n', 'default']);
      assert.match(denied.stderr, new RegExp(`User "${user}" cannot list resource "configmaps"`));
      await k.ok([
        'create',
        'rolebinding',
        `carol-view-${v}`,
        '--clusterrole=view',
        `--user=${user}`,
        '-n',
        'default',
      ]);
      await eventually('the binding to take effect', async () =>
        (await k.run([...asCarol, 'get', 'configmaps', '-n', 'default'])).code === 0 ? true : undefined,
      );
    });

    it('denies a CSR (no certificate) and refuses system:masters and bad requests', async () => {
      const { csrPem } = await makeCsr(`dave-${v}`, []);
      const name = `csr-deny-${v}`;
      await k.ok(['apply', '-f', '-'], { input: csrManifest(name, csrPem, ['client auth']) });
      assert.match(await k.ok(['certificate', 'deny', name]), /denied/);
      assert.match(await k.ok(['get', 'csr', name]), /Denied/);
      await sleep(1000);
      assert.equal((await k.ok(['get', 'csr', name, '-o', 'jsonpath={.status.certificate}'])).trim(), '');
      const approveDenied = await k.run(['certificate', 'approve', name]);
      assert.notEqual(approveDenied.code, 0, 'a denied request cannot be approved');

      const masters = await makeCsr(`eve-${v}`, ['system:masters']);
      const r = await k.run(['apply', '-f', '-'], {
        input: csrManifest(`csr-masters-${v}`, masters.csrPem, ['client auth']),
      });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /Forbidden.*system:masters group is not allowed/);

      const bad = await k.run(['apply', '-f', '-'], {
        input: JSON.stringify({
          apiVersion: 'certificates.k8s.io/v1',
          kind: 'CertificateSigningRequest',
          metadata: { name: `csr-bad-${v}` },
          spec: { request: Buffer.from('nope').toString('base64'), signerName: 'nope', usages: ['flying'] },
        }),
      });
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /spec\.request: Invalid value/);
      assert.match(bad.stderr, /spec\.signerName: Invalid value/);
      assert.match(bad.stderr, /spec\.usages\[0\]: Unsupported value: "flying"/);
    });

    it('fills a legacy service-account token Secret; the token works while the Secret exists', async () => {
      const sa = `builder-${v}`;
      await k.ok(['create', 'serviceaccount', sa, '-n', 'default']);
      await k.ok(['apply', '-f', '-'], {
        input: JSON.stringify({
          apiVersion: 'v1',
          kind: 'Secret',
          type: 'kubernetes.io/service-account-token',
          metadata: {
            name: `${sa}-token`,
            namespace: 'default',
            annotations: { 'kubernetes.io/service-account.name': sa },
          },
        }),
      });
      const data = await eventually('the token controller', async () => {
        const out = await k.ok(['get', 'secret', `${sa}-token`, '-n', 'default', '-o', 'json']);
        const s = JSON.parse(out) as {
          data?: Record<string, string>;
          metadata: { annotations: Record<string, string> };
        };
        return s.data?.['token'] ? s : undefined;
      });
      const d = data.data!;
      assert.equal(Buffer.from(d['namespace']!, 'base64').toString(), 'default');
      assert.equal(Buffer.from(d['ca.crt']!, 'base64').toString(), readFileSync(ca(), 'utf8'));
      const saUid = (await k.ok(['get', 'sa', sa, '-n', 'default', '-o', 'jsonpath={.metadata.uid}'])).trim();
      assert.equal(data.metadata.annotations['kubernetes.io/service-account.uid'], saUid);
      const token = Buffer.from(d['token']!, 'base64').toString();
      const who = await k.ok([...creds('--token', token), 'auth', 'whoami']);
      assert.match(who, new RegExp(`Username\\s+system:serviceaccount:default:${sa}`));
      const forbidden = await k.run([...creds('--token', token), 'get', 'secrets', '-n', 'default']);
      assert.match(forbidden.stderr, new RegExp(`User "system:serviceaccount:default:${sa}" cannot list`));
      await k.ok(['delete', 'secret', `${sa}-token`, '-n', 'default']);
      const gone = await k.run([...creds('--token', token), 'get', 'pods', '-n', 'default']);
      assert.notEqual(gone.code, 0);
      assert.match(gone.stderr, /Unauthorized|You must be logged in/);
    });

    it("copies the ServiceAccount's imagePullSecrets to a new pod", async () => {
      const sa = `puller-${v}`;
      await k.ok(['create', 'serviceaccount', sa, '-n', 'default']);
      await k.ok([
        'patch',
        'serviceaccount',
        sa,
        '-n',
        'default',
        '-p',
        '{"imagePullSecrets":[{"name":"regcred"}]}',
      ]);
      await k.ok(['apply', '-f', '-'], {
        input: JSON.stringify({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: `pull-${v}`, namespace: 'default' },
          spec: { serviceAccountName: sa, containers: [{ name: 'c', image: 'busybox' }] },
        }),
      });
      const names = await k.ok([
        'get',
        'pod',
        `pull-${v}`,
        '-n',
        'default',
        '-o',
        'jsonpath={.spec.imagePullSecrets[*].name}',
      ]);
      assert.equal(names.trim(), 'regcred');
    });
  });
}
