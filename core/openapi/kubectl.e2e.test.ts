/**
 * End to end with real kubectl binaries: a throwaway HTTPS server (self-signed via the openssl CLI) that
 * serves legacy discovery for core/v1 pods and apps/v1 deployments plus our /openapi/v2 and /openapi/v3
 * documents. Proves `kubectl explain` (v3, 1.27 and 1.33) and 1.27's create path (v2 download, field
 * validation check) work. A missing kubectl binary or openssl skips the test, or fails it with CI=true.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ResourceInfo } from '../registry/types.ts';
import { loadDefinitions } from './definitions.ts';
import { buildOpenAPIv2Protobuf, OPENAPI_V2_CONTENT_TYPE } from './v2.ts';
import { buildOpenAPIv3 } from './v3.ts';

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] as const;
const RESOURCES: ResourceInfo[] = [
  {
    group: '',
    version: 'v1',
    resource: 'pods',
    singular: 'pod',
    kind: 'Pod',
    namespaced: true,
    verbs: VERBS,
    shortNames: ['po'],
  },
  {
    group: 'apps',
    version: 'v1',
    resource: 'deployments',
    singular: 'deployment',
    kind: 'Deployment',
    namespaced: true,
    verbs: VERBS,
    shortNames: ['deploy'],
  },
];
const GIT_VERSION = 'v1.30.0';
const CI = process.env.CI === 'true';

function findKubectlDir(): string | undefined {
  try {
    const which = execFileSync('which', ['kubectl'], { encoding: 'utf8' }).trim();
    return which ? dirname(realpathSync(which)) : undefined;
  } catch {
    return undefined;
  }
}

function binary(minor: number): string | undefined {
  const dir = findKubectlDir();
  const p = dir ? join(dir, `kubectl.1.${minor}`) : undefined;
  return p && existsSync(p) ? p : undefined;
}

/** Skips (or, with CI=true, fails) when a prerequisite is missing. */
function need<T>(t: { skip(m: string): void }, what: string, v: T | undefined): v is T {
  if (v !== undefined) return true;
  if (CI) assert.fail(`${what} is required with CI=true`);
  console.log(`# skipped: ${what} not found`);
  t.skip(`${what} not found`);
  return false;
}

let tmp = '';
let server: Server | undefined;
let port = 0;
const requests: { method: string; url: string; accept: string }[] = [];
let haveOpenssl = true;

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'berth-openapi-e2e-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        join(tmp, 'key.pem'),
        '-out',
        join(tmp, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
  } catch {
    haveOpenssl = false;
    return;
  }
  const defs = loadDefinitions();
  const v3 = buildOpenAPIv3(RESOURCES, defs, GIT_VERSION);
  const v2 = buildOpenAPIv2Protobuf(RESOURCES, defs, GIT_VERSION);
  const resourceList = (gv: string, rs: ResourceInfo[]): object => ({
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: gv,
    resources: rs.map((r) => ({
      name: r.resource,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
      shortNames: r.shortNames,
    })),
  });
  server = createServer(
    { key: readFileSync(join(tmp, 'key.pem')), cert: readFileSync(join(tmp, 'cert.pem')) },
    (req, res) => {
      const url = new URL(req.url ?? '/', 'https://x');
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        accept: String(req.headers.accept ?? ''),
      });
      const json = (code: number, body: unknown): void => {
        res.writeHead(code, { 'Content-Type': 'application/json' });
        res.end(typeof body === 'string' ? body : JSON.stringify(body));
      };
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const p = url.pathname;
        if (p === '/api')
          return json(200, {
            kind: 'APIVersions',
            versions: ['v1'],
            serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${port}` }],
          });
        if (p === '/apis')
          return json(200, {
            kind: 'APIGroupList',
            apiVersion: 'v1',
            groups: [
              {
                name: 'apps',
                versions: [{ groupVersion: 'apps/v1', version: 'v1' }],
                preferredVersion: { groupVersion: 'apps/v1', version: 'v1' },
              },
            ],
          });
        if (p === '/api/v1') return json(200, resourceList('v1', [RESOURCES[0]!]));
        if (p === '/apis/apps/v1') return json(200, resourceList('apps/v1', [RESOURCES[1]!]));
        if (p === '/openapi/v2') {
          res.writeHead(200, { 'Content-Type': OPENAPI_V2_CONTENT_TYPE });
          return res.end(v2);
        }
        if (p === '/openapi/v3') return json(200, v3.index);
        if (p.startsWith('/openapi/v3/')) {
          const d = v3.docs.get(p.slice('/openapi/v3/'.length));
          if (d) return json(200, d.json);
        }
        if (req.method === 'POST' && p === '/apis/apps/v1/namespaces/default/deployments') {
          const obj = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            metadata: Record<string, unknown>;
          };
          obj.metadata = {
            ...obj.metadata,
            namespace: 'default',
            uid: '1b4f1bb6-0000-4000-8000-000000000001',
            resourceVersion: '1',
            creationTimestamp: '2024-01-01T00:00:00Z',
          };
          return json(201, obj);
        }
        json(404, {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: 'the server could not find the requested resource',
          reason: 'NotFound',
          code: 404,
        });
      });
    },
  );
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  writeFileSync(
    join(tmp, 'kubeconfig'),
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: t',
      '  cluster:',
      `    server: https://127.0.0.1:${port}`,
      '    insecure-skip-tls-verify: true',
      'users:',
      '- name: t',
      '  user:',
      '    token: test-token',
      'contexts:',
      '- name: t',
      '  context: {cluster: t, user: t, namespace: default}',
      'current-context: t',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(tmp, 'deployment.yaml'),
    [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata:',
      '  name: web',
      'spec:',
      '  replicas: 2',
      '  selector:',
      '    matchLabels: {app: web}',
      '  strategy:',
      '    rollingUpdate: {maxSurge: 1, maxUnavailable: 25%}',
      '  template:',
      '    metadata:',
      '      labels: {app: web}',
      '    spec:',
      '      containers:',
      '      - name: web',
      '        image: nginx:1.27',
      '        ports: [{containerPort: 80}]',
      '        resources:',
      '          limits: {cpu: 1, memory: 128Mi}',
      '',
    ].join('\n'),
  );
});

after(() => {
  server?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Runs a kubectl binary against the test server with a fresh cache dir; resolves with code and output. */
function kubectl(bin: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const cache = mkdtempSync(join(tmp, 'cache-'));
  return new Promise((resolve) => {
    const child = spawn(bin, ['--kubeconfig', join(tmp, 'kubeconfig'), '--cache-dir', cache, ...args], {
      env: { ...process.env, KUBECONFIG: join(tmp, 'kubeconfig'), HOME: tmp },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

test('kubectl 1.33 explain pod.spec.containers (OpenAPI v3)', async (t) => {
  if (!need(t, 'openssl', haveOpenssl ? true : undefined)) return;
  const bin = binary(33);
  if (!need(t, 'kubectl.1.33', bin)) return;
  const r = await kubectl(bin, ['explain', 'pod.spec.containers']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /KIND:\s+Pod/);
  assert.match(r.stdout.replace(/\s+/g, ' '), /List of containers belonging to the pod/);
  assert.match(r.stdout, /image\s+<string>/);
  assert.match(r.stdout, /name\s+<string> -required-/);
  const rec = await kubectl(bin, ['explain', 'deployment.spec', '--recursive']);
  assert.equal(rec.code, 0, rec.stderr);
  assert.match(rec.stdout, /containers\s+<\[\]Container> -required-/);
  assert.match(rec.stdout, /maxSurge\s+<(IntOrString|string)>/);
});

test('kubectl 1.27 explain deployment.spec (OpenAPI v3)', async (t) => {
  if (!need(t, 'openssl', haveOpenssl ? true : undefined)) return;
  const bin = binary(27);
  if (!need(t, 'kubectl.1.27', bin)) return;
  const r = await kubectl(bin, ['explain', 'deployment.spec']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /KIND:\s+Deployment/);
  assert.match(
    r.stdout.replace(/\s+/g, ' '),
    /DeploymentSpec is the specification of the desired behavior of the Deployment/,
  );
  assert.match(r.stdout, /replicas\s+<integer>/);
  assert.match(r.stdout, /template\s+<PodTemplateSpec> -required-/);
});

test('kubectl 1.27 create --dry-run=server passes its OpenAPI v2 step and leaves validation to the server', async (t) => {
  if (!need(t, 'openssl', haveOpenssl ? true : undefined)) return;
  const bin = binary(27);
  if (!need(t, 'kubectl.1.27', bin)) return;
  requests.length = 0;
  const r = await kubectl(bin, [
    'create',
    '-f',
    join(tmp, 'deployment.yaml'),
    '--dry-run=server',
    '-o',
    'name',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'deployment.apps/web');
  assert.ok(
    requests.some((q) => q.url.startsWith('/openapi/v2')),
    'kubectl 1.27 fetched /openapi/v2',
  );
  const post = requests.find((q) => q.method === 'POST');
  assert.ok(post, 'the create was sent');
  assert.match(post.url, /dryRun=All/);
  assert.match(post.url, /fieldValidation=Strict/);
});
