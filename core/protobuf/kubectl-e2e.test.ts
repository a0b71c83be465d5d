// End-to-end proof of the protobuf fact tables against real kubectl 1.33: a throwaway HTTPS server
// answers discovery, captures the protobuf bodies kubectl's typed clients POST, decodes them, and the
// result must equal what kubectl itself prints for `--dry-run=client -o json` (the same Go object,
// rendered with encoding/json).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { decodeKubernetesProtobuf, decodeProtobufAs, hasProtobufMagic } from './decode.ts';

function findKubectl(): string | undefined {
  try {
    const onPath = execFileSync('sh', ['-c', 'readlink -f "$(command -v kubectl)"'], {
      encoding: 'utf8',
    }).trim();
    if (!onPath) return undefined;
    const p = join(dirname(onPath), 'kubectl.1.33');
    return existsSync(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

const KUBECTL = findKubectl();
const skip = KUBECTL ? false : 'kubectl.1.33 not found next to kubectl on PATH';
if (!KUBECTL) {
  if (process.env.CI === 'true')
    throw new Error('CI=true but kubectl.1.33 was not found next to kubectl on PATH');
  console.log(`# skipping kubectl protobuf end-to-end tests: ${skip}`);
}

interface Captured {
  method: string;
  url: string;
  contentType: string;
  body: Buffer;
  decoded?: Record<string, unknown>;
  error?: string;
}

type Res = {
  name: string;
  kind: string;
  namespaced: boolean;
  verbs?: string[];
  group?: string;
  version?: string;
};

const ALL = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
const GROUPS: { gv: string; resources: Res[] }[] = [
  {
    gv: 'v1',
    resources: [
      { name: 'configmaps', kind: 'ConfigMap', namespaced: true },
      { name: 'secrets', kind: 'Secret', namespaced: true },
      { name: 'namespaces', kind: 'Namespace', namespaced: false },
      { name: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true },
      {
        name: 'serviceaccounts/token',
        kind: 'TokenRequest',
        namespaced: true,
        verbs: ['create'],
        group: 'authentication.k8s.io',
        version: 'v1',
      },
      { name: 'services', kind: 'Service', namespaced: true },
      { name: 'resourcequotas', kind: 'ResourceQuota', namespaced: true },
      { name: 'pods', kind: 'Pod', namespaced: true },
      {
        name: 'pods/eviction',
        kind: 'Eviction',
        namespaced: true,
        verbs: ['create'],
        group: 'policy',
        version: 'v1',
      },
      { name: 'pods/ephemeralcontainers', kind: 'Pod', namespaced: true, verbs: ['get', 'patch', 'update'] },
      { name: 'nodes', kind: 'Node', namespaced: false },
    ],
  },
  {
    gv: 'apps/v1',
    resources: [
      { name: 'deployments', kind: 'Deployment', namespaced: true },
      {
        name: 'deployments/scale',
        kind: 'Scale',
        namespaced: true,
        verbs: ['get', 'patch', 'update'],
        group: 'autoscaling',
        version: 'v1',
      },
    ],
  },
  {
    gv: 'batch/v1',
    resources: [
      { name: 'jobs', kind: 'Job', namespaced: true },
      { name: 'cronjobs', kind: 'CronJob', namespaced: true },
    ],
  },
  {
    gv: 'rbac.authorization.k8s.io/v1',
    resources: [
      { name: 'roles', kind: 'Role', namespaced: true },
      { name: 'rolebindings', kind: 'RoleBinding', namespaced: true },
      { name: 'clusterroles', kind: 'ClusterRole', namespaced: false },
      { name: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false },
    ],
  },
  { gv: 'networking.k8s.io/v1', resources: [{ name: 'ingresses', kind: 'Ingress', namespaced: true }] },
  {
    gv: 'policy/v1',
    resources: [{ name: 'poddisruptionbudgets', kind: 'PodDisruptionBudget', namespaced: true }],
  },
  {
    gv: 'scheduling.k8s.io/v1',
    resources: [{ name: 'priorityclasses', kind: 'PriorityClass', namespaced: false }],
  },
  {
    gv: 'autoscaling/v2',
    resources: [{ name: 'horizontalpodautoscalers', kind: 'HorizontalPodAutoscaler', namespaced: true }],
  },
  {
    gv: 'autoscaling/v1',
    resources: [{ name: 'horizontalpodautoscalers', kind: 'HorizontalPodAutoscaler', namespaced: true }],
  },
  {
    gv: 'certificates.k8s.io/v1',
    resources: [
      { name: 'certificatesigningrequests', kind: 'CertificateSigningRequest', namespaced: false },
      {
        name: 'certificatesigningrequests/approval',
        kind: 'CertificateSigningRequest',
        namespaced: false,
        verbs: ['get', 'patch', 'update'],
      },
    ],
  },
  {
    gv: 'authorization.k8s.io/v1',
    resources: [
      {
        name: 'selfsubjectaccessreviews',
        kind: 'SelfSubjectAccessReview',
        namespaced: false,
        verbs: ['create'],
      },
      {
        name: 'selfsubjectrulesreviews',
        kind: 'SelfSubjectRulesReview',
        namespaced: false,
        verbs: ['create'],
      },
    ],
  },
  {
    gv: 'authentication.k8s.io/v1',
    resources: [
      { name: 'selfsubjectreviews', kind: 'SelfSubjectReview', namespaced: false, verbs: ['create'] },
    ],
  },
];

/** Objects the fake server serves on GET (item path → JSON object). */
const store = new Map<string, Record<string, unknown>>();

let dir = '';
let server: Server | undefined;
let kubeconfig = '';
const captured: Captured[] = [];

function send(res: import('node:http').ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function notFound(res: import('node:http').ServerResponse): void {
  send(res, 404, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    reason: 'NotFound',
    code: 404,
    message: 'not found',
  });
}

/** What the fake server answers to a POST: the decoded object, plus the status the command needs. */
function reply(obj: Record<string, unknown>): Record<string, unknown> {
  const metadata = { ...((obj.metadata as Record<string, unknown> | null) ?? {}) };
  metadata.uid ??= '00000000-0000-0000-0000-000000000001';
  metadata.resourceVersion ??= '1';
  metadata.creationTimestamp ??= '2025-01-01T00:00:00Z';
  const out: Record<string, unknown> = { ...obj, metadata };
  if (obj.kind === 'SelfSubjectAccessReview') out.status = { allowed: true };
  if (obj.kind === 'SelfSubjectRulesReview')
    out.status = {
      resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
      nonResourceRules: [],
      incomplete: false,
    };
  if (obj.kind === 'SelfSubjectReview')
    out.status = { userInfo: { username: 'tester', groups: ['system:authenticated'] } };
  if (obj.kind === 'TokenRequest')
    out.status = { token: 'abc.def.ghi', expirationTimestamp: '2030-01-01T00:00:00Z' };
  return out;
}

before(async () => {
  if (!KUBECTL) return;
  dir = mkdtempSync(join(tmpdir(), 'berth-pb-e2e-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  const cert = readFileSync(join(dir, 'cert.pem'));
  server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'https://127.0.0.1');
      const path = url.pathname;
      if (req.method === 'GET') {
        if (path === '/api')
          return send(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
        if (path === '/apis') {
          const groups: {
            name: string;
            versions: { groupVersion: string; version: string }[];
            preferredVersion?: unknown;
          }[] = [];
          for (const g of GROUPS.filter((x) => x.gv.includes('/'))) {
            const [name = '', version = ''] = g.gv.split('/');
            let group = groups.find((x) => x.name === name);
            if (!group) groups.push((group = { name, versions: [] }));
            group.versions.push({ groupVersion: g.gv, version });
            group.preferredVersion = group.versions[0];
          }
          return send(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups });
        }
        const g = GROUPS.find((x) => (x.gv === 'v1' ? '/api/v1' : `/apis/${x.gv}`) === path);
        if (g) {
          const resources = g.resources.map((r) => ({
            name: r.name,
            singularName: '',
            namespaced: r.namespaced,
            kind: r.kind,
            verbs: r.verbs ?? ALL,
            ...(r.group !== undefined ? { group: r.group, version: r.version } : {}),
          }));
          return send(res, 200, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: g.gv, resources });
        }
        const stored = store.get(path);
        if (stored) return send(res, 200, stored);
        if (path === '/api/v1/pods') {
          const node = /spec\.nodeName=([^,]+)/.exec(url.searchParams.get('fieldSelector') ?? '')?.[1];
          const items = [...store.values()].filter(
            (o) => o.kind === 'Pod' && (o.spec as { nodeName?: string }).nodeName === node,
          );
          return send(res, 200, {
            kind: 'PodList',
            apiVersion: 'v1',
            metadata: { resourceVersion: '10' },
            items,
          });
        }
        return notFound(res);
      }
      const c: Captured = {
        method: req.method ?? '',
        url: req.url ?? '',
        contentType: req.headers['content-type'] ?? '',
        body,
      };
      captured.push(c);
      try {
        const protobuf = c.contentType.startsWith('application/vnd.kubernetes.protobuf');
        if (protobuf && req.method === 'DELETE')
          c.decoded = decodeProtobufAs(body, 'meta.k8s.io/v1', 'DeleteOptions').object;
        else if (protobuf) c.decoded = decodeKubernetesProtobuf(body).object;
        else if (body.length) c.decoded = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      } catch (e) {
        c.error = (e as Error).message;
        return send(res, 400, {
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          reason: 'BadRequest',
          code: 400,
          message: c.error,
        });
      }
      if (req.method === 'POST' && path.endsWith('/eviction')) {
        store.delete(path.slice(0, -'/eviction'.length));
        return send(res, 201, {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Success',
          code: 201,
        });
      }
      if (req.method === 'DELETE') {
        const old = store.get(path);
        store.delete(path);
        return old ? send(res, 200, old) : notFound(res);
      }
      if (req.method === 'PATCH') {
        const old = store.get(path);
        return old ? send(res, 200, old) : notFound(res);
      }
      if (req.method === 'PUT') {
        const target = path.replace(/\/(approval|status)$/, '');
        store.set(target, c.decoded ?? {});
        return send(res, 200, c.decoded);
      }
      return send(res, 201, reply(c.decoded ?? {}));
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: t',
      '  cluster:',
      `    server: https://127.0.0.1:${port}`,
      `    certificate-authority-data: ${cert.toString('base64')}`,
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
});

after(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function kubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      KUBECTL ?? 'kubectl',
      ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args],
      {
        env: { ...process.env, KUBECACHEDIR: join(dir, 'cache'), KUBECONFIG: kubeconfig, HOME: dir },
        timeout: 60_000,
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Runs a command for real, returns the protobuf request it made (decoded). */
async function capture(args: string[]): Promise<Captured> {
  const from = captured.length;
  const r = await kubectl(args);
  const mine = captured.slice(from).filter((c) => c.method !== 'GET');
  assert.equal(
    r.code,
    0,
    `kubectl ${args.join(' ')} failed: ${r.stderr}\n${mine.map((c) => c.error ?? '').join('\n')}`,
  );
  const last = mine.at(-1);
  assert.ok(last, `kubectl ${args.join(' ')} sent no request`);
  assert.match(
    last.contentType,
    /^application\/vnd\.kubernetes\.protobuf/,
    `kubectl ${args.join(' ')} did not send protobuf`,
  );
  assert.ok(hasProtobufMagic(last.body));
  return last;
}

const CREATE: [string, string[]][] = [
  ['configmap', ['create', 'configmap', 'x', '--from-literal=a=b', '--from-literal=c=d']],
  [
    'secret generic',
    [
      'create',
      'secret',
      'generic',
      's',
      '--from-literal=user=admin',
      '--from-literal=pw=s3cr3t',
      '--type=Opaque',
    ],
  ],
  [
    'secret docker-registry',
    [
      'create',
      'secret',
      'docker-registry',
      'dr',
      '--docker-server=r.example',
      '--docker-username=u',
      '--docker-password=p',
    ],
  ],
  [
    'deployment',
    ['create', 'deployment', 'web', '--image=busybox', '--port=8080', '--replicas=2', '--', 'sleep', '3600'],
  ],
  ['namespace', ['create', 'namespace', 'ns1']],
  ['serviceaccount', ['create', 'serviceaccount', 'sa1']],
  [
    'role',
    ['create', 'role', 'r1', '--verb=get', '--verb=list', '--resource=pods', '--resource=deployments.apps'],
  ],
  [
    'rolebinding',
    ['create', 'rolebinding', 'rb1', '--role=x', '--user=u', '--serviceaccount=default:sa1', '--group=g'],
  ],
  [
    'clusterrole',
    [
      'create',
      'clusterrole',
      'cr1',
      '--verb=get',
      '--resource=nodes',
      '--non-resource-url=/logs/*',
      '--verb=get',
    ],
  ],
  [
    'clusterrole aggregated',
    ['create', 'clusterrole', 'cr2', '--aggregation-rule=rbac.berth.test/aggregate-to-monitoring=true'],
  ],
  ['clusterrolebinding', ['create', 'clusterrolebinding', 'crb1', '--clusterrole=cr1', '--user=u']],
  ['service clusterip', ['create', 'service', 'clusterip', 's', '--tcp=80:8080']],
  ['service nodeport', ['create', 'service', 'nodeport', 'np', '--tcp=80:8080', '--node-port=30080']],
  ['service loadbalancer', ['create', 'service', 'loadbalancer', 'lb', '--tcp=443:8443']],
  ['service externalname', ['create', 'service', 'externalname', 'en', '--external-name=berth.test']],
  ['job', ['create', 'job', 'j', '--image=busybox', '--', 'echo', 'hi']],
  ['cronjob', ['create', 'cronjob', 'c', '--image=busybox', '--schedule=*/1 * * * *', '--restart=OnFailure']],
  [
    'ingress',
    [
      'create',
      'ingress',
      'i',
      '--rule=a.berth.test/=svc:80',
      '--rule=b.com/api*=api:http,tls=b-tls',
      '--class=nginx',
      '--annotation=x=y',
    ],
  ],
  ['poddisruptionbudget', ['create', 'poddisruptionbudget', 'p', '--selector=app=x', '--min-available=1']],
  [
    'poddisruptionbudget max-unavailable %',
    ['create', 'poddisruptionbudget', 'p2', '--selector=app=x', '--max-unavailable=50%'],
  ],
  [
    'priorityclass',
    ['create', 'priorityclass', 'pc', '--value=10', '--description=d', '--preemption-policy=Never'],
  ],
  [
    'quota',
    ['create', 'quota', 'q', '--hard=pods=2,requests.cpu=500m,limits.memory=1Gi', '--scopes=BestEffort'],
  ],
];

/** Inserts flags before a `--` (the container command), or appends them. */
function withFlags(args: string[], ...flags: string[]): string[] {
  const i = args.indexOf('--');
  return i < 0 ? [...args, ...flags] : [...args.slice(0, i), ...flags, ...args.slice(i)];
}

for (const [name, args] of CREATE) {
  test(
    `kubectl 1.33 create ${name}: decoded protobuf body equals --dry-run=client -o json`,
    { skip },
    async () => {
      const dry = await kubectl(withFlags(args, '--validate=false', '--dry-run=client', '-o', 'json'));
      assert.equal(dry.code, 0, dry.stderr);
      const expected = JSON.parse(dry.stdout) as Record<string, unknown>;
      const got = await capture(withFlags(args, '--validate=false', '-o', 'json'));
      assert.deepEqual(got.decoded, expected);
      if (process.env.PB_DUMP) console.log(JSON.stringify(got.decoded));
    },
  );
}

test('kubectl 1.33 create secret tls', { skip }, async () => {
  const args = [
    'create',
    'secret',
    'tls',
    'tls1',
    `--cert=${join(dir, 'cert.pem')}`,
    `--key=${join(dir, 'key.pem')}`,
  ];
  const dry = await kubectl([...args, '--validate=false', '--dry-run=client', '-o', 'json']);
  assert.equal(dry.code, 0, dry.stderr);
  const got = await capture([...args, '--validate=false', '-o', 'json']);
  assert.deepEqual(got.decoded, JSON.parse(dry.stdout));
});

test('kubectl 1.33 auth can-i (SelfSubjectAccessReview)', { skip }, async () => {
  const got = await capture([
    'auth',
    'can-i',
    'list',
    'deployments.apps',
    '--subresource=scale',
    '-n',
    'ns1',
  ]);
  assert.deepEqual(got.decoded, {
    kind: 'SelfSubjectAccessReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: { creationTimestamp: null },
    spec: {
      resourceAttributes: {
        namespace: 'ns1',
        verb: 'list',
        group: 'apps',
        resource: 'deployments',
        subresource: 'scale',
      },
    },
    status: { allowed: false },
  });
  const nonResource = await capture(['auth', 'can-i', 'get', '/logs']);
  assert.deepEqual((nonResource.decoded?.spec as Record<string, unknown>).nonResourceAttributes, {
    path: '/logs',
    verb: 'get',
  });
});

test('kubectl 1.33 auth can-i --list (SelfSubjectRulesReview)', { skip }, async () => {
  const got = await capture(['auth', 'can-i', '--list', '-n', 'ns1']);
  assert.deepEqual(got.decoded, {
    kind: 'SelfSubjectRulesReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: { creationTimestamp: null },
    spec: { namespace: 'ns1' },
    status: { resourceRules: null, nonResourceRules: null, incomplete: false },
  });
});

test('kubectl 1.33 auth whoami (SelfSubjectReview)', { skip }, async () => {
  const got = await capture(['auth', 'whoami', '-o', 'json']);
  assert.deepEqual(got.decoded, {
    kind: 'SelfSubjectReview',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { creationTimestamp: null },
    status: { userInfo: {} },
  });
});

test('kubectl 1.33 create token (TokenRequest)', { skip }, async () => {
  const got = await capture(['create', 'token', 'sa1', '--duration=2h', '--audience=a1', '--audience=a2']);
  assert.match(got.url, /\/api\/v1\/namespaces\/default\/serviceaccounts\/sa1\/token/);
  assert.deepEqual(got.decoded, {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { creationTimestamp: null },
    spec: { audiences: ['a1', 'a2'], expirationSeconds: 7200, boundObjectRef: null },
    status: { token: '', expirationTimestamp: null },
  });
});

test('DeleteOptions body: envelope typeMeta set or empty', () => {
  // Hand-built: magic + Unknown{typeMeta{}, raw = DeleteOptions{gracePeriodSeconds: 0, propagationPolicy: "Foreground"}}
  const raw = Buffer.from([0x08, 0x00, 0x22, 0x0a, ...Buffer.from('Foreground')]);
  const env = Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x00, 0x12, raw.length]), raw]);
  const d = decodeProtobufAs(env, 'meta.k8s.io/v1', 'DeleteOptions');
  assert.deepEqual(d.object, {
    kind: 'DeleteOptions',
    apiVersion: 'meta.k8s.io/v1',
    gracePeriodSeconds: 0,
    propagationPolicy: 'Foreground',
  });
});

// ---- round trips through kubectl's typed objects: server JSON → Go → protobuf → our decoder ----

/** A PodSpec with (nearly) every field set, in the canonical form Go's encoding/json produces. */
function kitchenSinkPodSpec(restartPolicy: string): Record<string, unknown> {
  const container = {
    name: 'main',
    image: 'busybox:1.36',
    command: ['sh', '-c'],
    args: ['sleep 1'],
    workingDir: '/w',
    ports: [
      { name: 'http', containerPort: 8080, protocol: 'TCP' },
      { hostPort: 5353, containerPort: 53, protocol: 'UDP', hostIP: '0.0.0.0' },
    ],
    envFrom: [{ prefix: 'X_', configMapRef: { name: 'cm1', optional: true } }, { secretRef: { name: 's1' } }],
    env: [
      { name: 'A', value: '1' },
      { name: 'B', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } } },
      { name: 'C', valueFrom: { secretKeyRef: { name: 's1', key: 'k', optional: false } } },
      { name: 'D', valueFrom: { configMapKeyRef: { name: 'cm1', key: 'k' } } },
      { name: 'E', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
    ],
    resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '100m', memory: '64Mi' } },
    resizePolicy: [{ resourceName: 'cpu', restartPolicy: 'NotRequired' }],
    volumeMounts: [
      { name: 'empty', mountPath: '/e' },
      { name: 'cm', readOnly: true, mountPath: '/c', subPath: 'x', mountPropagation: 'HostToContainer' },
      { name: 'sec', mountPath: '/s', subPathExpr: '$(A)' },
    ],
    volumeDevices: [{ name: 'blk', devicePath: '/dev/xvda' }],
    livenessProbe: {
      httpGet: {
        path: '/healthz',
        port: 8080,
        host: 'h',
        scheme: 'HTTP',
        httpHeaders: [{ name: 'X', value: 'y' }],
      },
      initialDelaySeconds: 5,
      timeoutSeconds: 2,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
      terminationGracePeriodSeconds: 30,
    },
    readinessProbe: { tcpSocket: { port: 'http' }, periodSeconds: 5 },
    startupProbe: { exec: { command: ['true'] }, failureThreshold: 30 },
    lifecycle: {
      postStart: { exec: { command: ['echo', 'hi'] } },
      preStop: { httpGet: { path: '/stop', port: 'http' } },
    },
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'FallbackToLogsOnError',
    imagePullPolicy: 'IfNotPresent',
    securityContext: {
      capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] },
      privileged: false,
      seLinuxOptions: { user: 'u', role: 'r', type: 't', level: 's0' },
      runAsUser: 1000,
      runAsGroup: 1000,
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      procMount: 'Default',
      seccompProfile: { type: 'RuntimeDefault' },
      appArmorProfile: { type: 'Localhost', localhostProfile: 'p' },
    },
    stdin: true,
    stdinOnce: true,
    tty: true,
  };
  return {
    volumes: [
      { name: 'empty', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
      {
        name: 'cm',
        configMap: {
          name: 'cm1',
          items: [{ key: 'a', path: 'a.txt', mode: 256 }],
          defaultMode: 420,
          optional: true,
        },
      },
      { name: 'sec', secret: { secretName: 's1', defaultMode: 256, optional: false } },
      { name: 'host', hostPath: { path: '/var/log', type: 'Directory' } },
      { name: 'pvc', persistentVolumeClaim: { claimName: 'data', readOnly: true } },
      {
        name: 'dapi',
        downwardAPI: {
          items: [
            { path: 'labels', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.labels' } },
            {
              path: 'cpu',
              resourceFieldRef: { containerName: 'main', resource: 'limits.cpu', divisor: '1m' },
            },
          ],
          defaultMode: 420,
        },
      },
      {
        name: 'proj',
        projected: {
          sources: [
            { serviceAccountToken: { audience: 'vault', expirationSeconds: 3600, path: 'token' } },
            { configMap: { name: 'cm2', items: [{ key: 'k', path: 'p' }] } },
            { secret: { name: 's2' } },
            {
              downwardAPI: {
                items: [{ path: 'ns', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
              },
            },
          ],
          defaultMode: 420,
        },
      },
      { name: 'nfs', nfs: { server: 'nfs.example', path: '/exports', readOnly: true } },
      { name: 'img', image: { reference: 'berth.test/data:1', pullPolicy: 'IfNotPresent' } },
      {
        name: 'eph',
        ephemeral: {
          volumeClaimTemplate: {
            metadata: { creationTimestamp: null, labels: { a: 'b' } },
            spec: {
              accessModes: ['ReadWriteOnce'],
              resources: { requests: { storage: '1Gi' } },
              storageClassName: 'fast',
            },
          },
        },
      },
    ],
    initContainers: [
      {
        name: 'sidecar',
        image: 'busybox',
        resources: {},
        restartPolicy: 'Always',
        readinessProbe: { grpc: { port: 9090, service: 'health' } },
      },
    ],
    containers: [container],
    restartPolicy,
    terminationGracePeriodSeconds: 30,
    activeDeadlineSeconds: 600,
    dnsPolicy: 'ClusterFirst',
    nodeSelector: { 'kubernetes.io/os': 'linux' },
    serviceAccountName: 'sa1',
    serviceAccount: 'sa1',
    automountServiceAccountToken: false,
    hostNetwork: true,
    hostPID: true,
    hostIPC: true,
    shareProcessNamespace: true,
    securityContext: {
      seLinuxOptions: { level: 's0:c1' },
      windowsOptions: { gmsaCredentialSpecName: 'g', runAsUserName: 'u', hostProcess: false },
      runAsUser: 1000,
      runAsGroup: 1000,
      runAsNonRoot: true,
      supplementalGroups: [1, 2],
      supplementalGroupsPolicy: 'Merge',
      fsGroup: 2000,
      sysctls: [{ name: 'net.core.somaxconn', value: '1024' }],
      fsGroupChangePolicy: 'OnRootMismatch',
      seccompProfile: { type: 'Localhost', localhostProfile: 'x.json' },
      appArmorProfile: { type: 'RuntimeDefault' },
      seLinuxChangePolicy: 'MountOption',
    },
    imagePullSecrets: [{ name: 'regcred' }],
    hostname: 'h',
    subdomain: 'sub',
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            {
              matchExpressions: [{ key: 'k', operator: 'In', values: ['v'] }],
              matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n'] }],
            },
          ],
        },
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 1, preference: { matchExpressions: [{ key: 'a', operator: 'Exists' }] } },
        ],
      },
      podAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          {
            labelSelector: { matchLabels: { app: 'x' } },
            namespaces: ['a'],
            topologyKey: 'kubernetes.io/hostname',
            namespaceSelector: {},
            matchLabelKeys: ['pod-template-hash'],
          },
        ],
      },
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 100,
            podAffinityTerm: {
              labelSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['y'] }] },
              topologyKey: 'zone',
            },
          },
        ],
      },
    },
    schedulerName: 'default-scheduler',
    tolerations: [
      { key: 'k', operator: 'Equal', value: 'v', effect: 'NoSchedule' },
      { operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ],
    hostAliases: [{ ip: '10.0.0.1', hostnames: ['a', 'b'] }],
    priorityClassName: 'pc',
    priority: 10,
    dnsConfig: {
      nameservers: ['10.96.0.10'],
      searches: ['s'],
      options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }],
    },
    readinessGates: [{ conditionType: 'x' }],
    runtimeClassName: 'rc',
    enableServiceLinks: false,
    preemptionPolicy: 'Never',
    overhead: { cpu: '10m' },
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: 'zone',
        whenUnsatisfiable: 'DoNotSchedule',
        labelSelector: { matchLabels: { a: 'b' } },
        minDomains: 2,
        nodeAffinityPolicy: 'Honor',
        nodeTaintsPolicy: 'Ignore',
        matchLabelKeys: ['k'],
      },
    ],
    setHostnameAsFQDN: true,
    os: { name: 'linux' },
    hostUsers: false,
    schedulingGates: [{ name: 'g' }],
    resourceClaims: [{ name: 'rc1', resourceClaimName: 'claim' }],
    resources: { limits: { cpu: '1' } },
  };
}

function kitchenSinkJobSpec(): Record<string, unknown> {
  return {
    parallelism: 2,
    completions: 4,
    activeDeadlineSeconds: 100,
    podFailurePolicy: {
      rules: [
        { action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [42] } },
        { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
      ],
    },
    successPolicy: { rules: [{ succeededIndexes: '0-1', succeededCount: 1 }] },
    backoffLimit: 3,
    backoffLimitPerIndex: 1,
    maxFailedIndexes: 2,
    template: {
      metadata: { creationTimestamp: null, labels: { job: 'x' }, annotations: { a: 'b' } },
      spec: kitchenSinkPodSpec('OnFailure'),
    },
    ttlSecondsAfterFinished: 60,
    completionMode: 'Indexed',
    suspend: false,
    podReplacementPolicy: 'Failed',
    managedBy: 'berth.test/ctrl',
  };
}

test(
  'kubectl 1.33 create job --from=cronjob: whole JobSpec and PodSpec, ownerReferences',
  { skip },
  async () => {
    store.set('/apis/batch/v1/namespaces/default/cronjobs/cj', {
      kind: 'CronJob',
      apiVersion: 'batch/v1',
      metadata: {
        name: 'cj',
        namespace: 'default',
        uid: '11111111-2222-3333-4444-555555555555',
        resourceVersion: '7',
        creationTimestamp: '2025-01-01T00:00:00Z',
      },
      spec: {
        schedule: '*/5 * * * *',
        timeZone: 'Etc/UTC',
        startingDeadlineSeconds: 30,
        concurrencyPolicy: 'Forbid',
        jobTemplate: {
          metadata: { labels: { from: 'cj' }, annotations: { n: 'm' } },
          spec: kitchenSinkJobSpec(),
        },
      },
    });
    const args = ['create', 'job', 'manual-1', '--from=cronjob/cj'];
    const dry = await kubectl([...args, '--dry-run=client', '-o', 'json']);
    assert.equal(dry.code, 0, dry.stderr);
    const expected = JSON.parse(dry.stdout) as Record<string, unknown>;
    const got = await capture([...args, '-o', 'json']);
    assert.deepEqual(got.decoded, expected);
    // the fixture is canonical, so the whole template must have survived untouched
    assert.deepEqual((got.decoded?.spec as Record<string, unknown>).template, kitchenSinkJobSpec().template);
    assert.equal(((got.decoded?.metadata as Record<string, unknown>).ownerReferences as unknown[]).length, 1);
  },
);

test('kubectl 1.33 debug --copy-to: the copied Pod (PodSpec round trip)', { skip }, async () => {
  const spec = kitchenSinkPodSpec('Always');
  store.set('/api/v1/namespaces/default/pods/src', {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: {
      name: 'src',
      namespace: 'default',
      uid: 'u-src',
      resourceVersion: '3',
      creationTimestamp: '2025-01-01T00:00:00Z',
      labels: { app: 'x' },
    },
    spec,
    status: { phase: 'Running' },
  });
  const got = await capture([
    'debug',
    'src',
    '--copy-to=src-copy',
    '--image=busybox',
    '--container=dbg',
    '--attach=false',
    '--',
    'sleep',
    '1',
  ]);
  const pod = got.decoded as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
  assert.equal(pod.metadata.name, 'src-copy');
  const containers = pod.spec.containers as Record<string, unknown>[];
  assert.deepEqual(containers[0], (spec.containers as unknown[])[0]);
  assert.equal(containers[1]?.name, 'dbg');
  for (const k of [
    'volumes',
    'initContainers',
    'securityContext',
    'affinity',
    'tolerations',
    'dnsConfig',
    'topologySpreadConstraints',
    'overhead',
  ]) {
    assert.deepEqual(pod.spec[k], spec[k], k);
  }
});

test('kubectl 1.33 autoscale (HPA autoscaling/v2)', { skip }, async () => {
  store.set('/apis/apps/v1/namespaces/default/deployments/web', {
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    metadata: {
      name: 'web',
      namespace: 'default',
      uid: 'u-web',
      resourceVersion: '4',
      creationTimestamp: '2025-01-01T00:00:00Z',
    },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
    },
  });
  const args = ['autoscale', 'deployment', 'web', '--min=2', '--max=5', '--cpu-percent=80'];
  const dry = await kubectl([...args, '--dry-run=client', '-o', 'json']);
  assert.equal(dry.code, 0, dry.stderr);
  const got = await capture([...args, '-o', 'json']);
  assert.deepEqual(got.decoded, JSON.parse(dry.stdout));
  assert.equal(got.decoded?.apiVersion, 'autoscaling/v2');
});

test('kubectl 1.33 certificate approve (CSR with status.conditions, PUT /approval)', { skip }, async () => {
  const request = Buffer.from(
    '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n',
  ).toString('base64');
  const csr = {
    kind: 'CertificateSigningRequest',
    apiVersion: 'certificates.k8s.io/v1',
    metadata: {
      name: 'csr1',
      uid: 'u-csr',
      resourceVersion: '5',
      creationTimestamp: '2025-01-01T00:00:00Z',
      labels: { a: 'b' },
    },
    spec: {
      request,
      signerName: 'kubernetes.io/kube-apiserver-client',
      expirationSeconds: 3600,
      usages: ['digital signature', 'client auth'],
      username: 'alice',
      uid: 'alice-uid',
      groups: ['system:authenticated', 'devs'],
      extra: { 'berth.test/scopes': ['a', 'b'], empty: [] },
    },
    status: {
      conditions: [
        {
          type: 'Pending',
          status: 'Unknown',
          reason: 'r',
          message: 'm',
          lastUpdateTime: '2025-01-02T03:04:05Z',
          lastTransitionTime: '2025-01-02T03:04:05Z',
        },
      ],
    },
  };
  store.set('/apis/certificates.k8s.io/v1/certificatesigningrequests/csr1', csr);
  const got = await capture(['certificate', 'approve', 'csr1']);
  assert.equal(got.method, 'PUT');
  assert.match(got.url, /certificatesigningrequests\/csr1\/approval/);
  const status = got.decoded?.status as { conditions: Record<string, unknown>[] };
  const added = status.conditions[1] ?? {};
  assert.match(String(added.lastUpdateTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.deepEqual(got.decoded, {
    ...csr,
    status: {
      conditions: [
        csr.status.conditions[0],
        {
          type: 'Approved',
          status: 'True',
          reason: 'KubectlApprove',
          message: 'This CSR was approved by kubectl certificate approve.',
          lastUpdateTime: added.lastUpdateTime,
          lastTransitionTime: null,
        },
      ],
    },
  });
});

function seedDrainPod(name: string): void {
  store.set('/api/v1/nodes/node1', {
    kind: 'Node',
    apiVersion: 'v1',
    metadata: {
      name: 'node1',
      uid: 'u-node',
      resourceVersion: '2',
      creationTimestamp: '2025-01-01T00:00:00Z',
    },
    spec: {},
  });
  store.set(`/api/v1/namespaces/default/pods/${name}`, {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: {
      name,
      namespace: 'default',
      uid: `u-${name}`,
      resourceVersion: '9',
      creationTimestamp: '2025-01-01T00:00:00Z',
    },
    spec: { nodeName: 'node1', containers: [{ name: 'c', image: 'i' }] },
    status: { phase: 'Running' },
  });
}

test(
  'kubectl 1.33 drain: Eviction with DeleteOptions (observed: sent as JSON, decoded if protobuf)',
  { skip },
  async () => {
    seedDrainPod('victim');
    const from = captured.length;
    const r = await kubectl(['drain', 'node1', '--force', '--grace-period=7', '--timeout=20s']);
    assert.equal(r.code, 0, r.stderr);
    const ev = captured.slice(from).find((c) => c.url.includes('/eviction'));
    assert.ok(ev, 'no eviction request');
    if (process.env.PB_DUMP) console.log(ev.contentType, JSON.stringify(ev.decoded));
    assert.deepEqual(ev.decoded, {
      kind: 'Eviction',
      apiVersion: 'policy/v1',
      metadata: { name: 'victim', namespace: 'default', creationTimestamp: null },
      deleteOptions: { gracePeriodSeconds: 7 },
    });
  },
);

test(
  'kubectl 1.33 drain --disable-eviction: DELETE with a protobuf DeleteOptions body',
  { skip },
  async () => {
    seedDrainPod('victim2');
    const from = captured.length;
    const r = await kubectl([
      'drain',
      'node1',
      '--force',
      '--disable-eviction',
      '--grace-period=3',
      '--timeout=20s',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const del = captured.slice(from).find((c) => c.method === 'DELETE');
    assert.ok(del, 'no DELETE request');
    if (process.env.PB_DUMP) console.log(del.contentType, del.body.toString('hex'));
    assert.match(del.contentType, /protobuf/);
    assert.deepEqual(del.decoded, { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 3 });
  },
);
