/**
 * End to end: the certificates work for real TLS — Node's https server and client, and real kubectl
 * (kubectl.1.33, found next to the `kubectl` on PATH) reading a kubeconfig we rendered.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { CLUSTER_ADMINS_GROUP } from '../auth/types.ts';
import { createCa } from './ca.ts';
import { issueClientCert } from './certs.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { ADMIN_USER, loadOrCreatePki, type ClusterPki } from './store.ts';

const run = promisify(execFile);
const VERSION = { major: '1', minor: '33', gitVersion: 'v1.33.0' };

interface Seen {
  authorized: boolean;
  authorizationError: string | undefined;
  subject: Record<string, string | string[] | undefined> | undefined;
  userAgent: string | undefined;
}

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `dirname $(readlink -f $(which kubectl))`/kubectl.1.33, or undefined. */
function findKubectl133(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const k = join(dir, 'kubectl');
    if (!executable(k)) continue;
    const candidate = join(dirname(realpathSync(k)), 'kubectl.1.33');
    if (executable(candidate)) return candidate;
  }
  return undefined;
}

describe('TLS with the cluster certificates', () => {
  let dir: string;
  let pki: ClusterPki;
  let server: Server;
  let port: number;
  const seen: Seen[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-tls-'));
    pki = await loadOrCreatePki(dir, {});
    server = createServer(
      {
        cert: pki.serving.certPem,
        key: pki.serving.keyPem,
        ca: pki.ca.certPem,
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req, res) => {
        const socket = req.socket as TLSSocket;
        const peer = socket.getPeerCertificate();
        seen.push({
          authorized: socket.authorized,
          authorizationError: socket.authorizationError ? String(socket.authorizationError) : undefined,
          subject: peer && Object.keys(peer).length ? { ...peer.subject } : undefined,
          userAgent: req.headers['user-agent'],
        });
        if (req.url?.startsWith('/version')) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(VERSION));
        } else {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end('{}');
        }
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  function get(opts: {
    cert?: string;
    key?: string;
    servername?: string;
  }): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/version',
          ca: pki.ca.certPem,
          ...(opts.cert ? { cert: opts.cert, key: opts.key } : {}),
          ...(opts.servername ? { servername: opts.servername } : {}),
          agent: false,
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  test('a Node client with the admin certificate is authorized and seen as CN=berth-admin, O=berth:cluster-admins', async () => {
    seen.length = 0;
    const r = await get({ cert: pki.admin.certPem, key: pki.admin.keyPem });
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), VERSION);
    assert.equal(seen[0]?.authorized, true);
    assert.deepEqual(seen[0]?.subject, { CN: ADMIN_USER, O: CLUSTER_ADMINS_GROUP });
  });

  test('the server certificate also verifies by name (localhost)', async () => {
    const r = await get({ servername: 'localhost' });
    assert.equal(r.status, 200);
  });

  test('several groups come out as an array of O; no certificate or a foreign one is not authorized', async () => {
    seen.length = 0;
    const alice = await pki.issueClientCert('alice', ['dev', 'ops']);
    await get({ cert: alice.certPem, key: alice.keyPem });
    assert.equal(seen[0]?.authorized, true);
    assert.deepEqual(seen[0]?.subject, { CN: 'alice', O: ['dev', 'ops'] });

    seen.length = 0;
    await get({});
    assert.equal(seen[0]?.authorized, false);
    assert.equal(seen[0]?.subject, undefined);

    seen.length = 0;
    const foreign = await issueClientCert(await createCa(), {
      user: 'mallory',
      groups: [CLUSTER_ADMINS_GROUP],
    });
    await get({ cert: foreign.certPem, key: foreign.keyPem });
    assert.equal(seen[0]?.authorized, false);
    assert.ok(seen[0]?.authorizationError);
  });

  test('real kubectl 1.33 accepts the CA, the serving certificate and the admin client certificate', async (t) => {
    const kubectl = findKubectl133();
    if (!kubectl) {
      const why = 'kubectl.1.33 not found next to the kubectl on PATH';
      if (process.env.CI === 'true') assert.fail(why);
      t.skip(why);
      return;
    }
    const home = join(dir, 'home');
    const kubeconfig = join(dir, 'kubeconfig');
    writeKubeconfig(kubeconfig, {
      clusterName: 'berth-test',
      server: `https://127.0.0.1:${port}`,
      caPem: pki.ca.certPem,
      userName: 'berth-test-admin',
      certPem: pki.admin.certPem,
      keyPem: pki.admin.keyPem,
    });
    seen.length = 0;
    const { stdout } = await run(
      kubectl,
      [
        '--kubeconfig',
        kubeconfig,
        '--cache-dir',
        join(home, 'cache'),
        '--request-timeout',
        '20s',
        'get',
        '--raw',
        '/version',
      ],
      { env: { PATH: process.env.PATH ?? '', HOME: home }, timeout: 60_000 },
    );
    assert.deepEqual(JSON.parse(stdout), VERSION);
    assert.ok(seen.length >= 1);
    for (const s of seen) {
      assert.equal(s.authorized, true);
      assert.deepEqual(s.subject, { CN: ADMIN_USER, O: CLUSTER_ADMINS_GROUP });
      assert.match(s.userAgent ?? '', /^kubectl/);
    }
  });
});
