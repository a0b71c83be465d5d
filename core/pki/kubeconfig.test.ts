import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parse } from 'yaml';
import { mergeKubeconfig, renderKubeconfig, writeKubeconfig, type KubeconfigParams } from './kubeconfig.ts';

const params = (over: Partial<KubeconfigParams> = {}): KubeconfigParams => ({
  clusterName: 'berth',
  server: 'https://127.0.0.1:6443',
  caPem: '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n',
  userName: 'berth-admin',
  certPem: '-----BEGIN CERTIFICATE-----\nCERT\n-----END CERTIFICATE-----\n',
  keyPem: '-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n',
  ...over,
});
const unb64 = (s: unknown): string => Buffer.from(String(s), 'base64').toString('utf8');

interface Parsed {
  apiVersion: string;
  kind: string;
  clusters: { name: string; cluster: Record<string, string> }[] | null;
  users: { name: string; user: Record<string, string> }[] | null;
  contexts: { name: string; context: Record<string, string> }[] | null;
  'current-context': string;
  preferences?: unknown;
}

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('renderKubeconfig', () => {
  test('produces a kubeconfig with embedded base64 credentials and a current context', () => {
    const kc = parse(renderKubeconfig(params({ namespace: 'dev' }))) as Parsed;
    assert.equal(kc.apiVersion, 'v1');
    assert.equal(kc.kind, 'Config');
    assert.equal(kc['current-context'], 'berth');
    assert.deepEqual(
      kc.clusters?.map((c) => c.name),
      ['berth'],
    );
    assert.equal(kc.clusters?.[0]?.cluster.server, 'https://127.0.0.1:6443');
    assert.equal(unb64(kc.clusters?.[0]?.cluster['certificate-authority-data']), params().caPem);
    assert.equal(kc.users?.[0]?.name, 'berth-admin');
    assert.equal(unb64(kc.users?.[0]?.user['client-certificate-data']), params().certPem);
    assert.equal(unb64(kc.users?.[0]?.user['client-key-data']), params().keyPem);
    assert.deepEqual(kc.contexts, [
      { name: 'berth', context: { cluster: 'berth', user: 'berth-admin', namespace: 'dev' } },
    ]);
  });

  test('omits the namespace when none is given', () => {
    const kc = parse(renderKubeconfig(params())) as Parsed;
    assert.deepEqual(kc.contexts?.[0]?.context, { cluster: 'berth', user: 'berth-admin' });
  });

  test('writeKubeconfig writes mode 0600, creating the directory', () => {
    const d = mkdtempSync(join(tmpdir(), 'berth-kc-'));
    dirs.push(d);
    const p = join(d, 'sub', 'kubeconfig');
    writeKubeconfig(p, params());
    assert.equal(statSync(p).mode & 0o777, 0o600);
    assert.equal(readFileSync(p, 'utf8'), renderKubeconfig(params()));
    writeKubeconfig(p, 'apiVersion: v1\n');
    assert.equal(readFileSync(p, 'utf8'), 'apiVersion: v1\n');
    assert.equal(statSync(p).mode & 0o777, 0o600);
  });
});

describe('mergeKubeconfig', () => {
  const existing = `# my clusters
apiVersion: v1
kind: Config
clusters:
  - name: prod
    cluster:
      server: https://prod.example:443
  - name: berth
    cluster:
      server: https://127.0.0.1:1111
users:
  - name: prod-user
    user:
      token: abc
  - name: berth-admin
    user:
      token: old
contexts:
  - name: prod
    context:
      cluster: prod
      user: prod-user
  - name: berth
    context:
      cluster: berth
      user: berth-admin
current-context: prod
preferences:
  colors: true
`;

  test('replaces entries with the same name in place and keeps the others', () => {
    const merged = mergeKubeconfig(existing, renderKubeconfig(params()));
    assert.match(merged, /^# my clusters/, 'comments survive');
    const kc = parse(merged) as Parsed;
    assert.deepEqual(
      kc.clusters?.map((c) => c.name),
      ['prod', 'berth'],
    );
    assert.equal(kc.clusters?.[1]?.cluster.server, 'https://127.0.0.1:6443');
    assert.equal(kc.clusters?.[0]?.cluster.server, 'https://prod.example:443');
    assert.deepEqual(
      kc.users?.map((u) => u.name),
      ['prod-user', 'berth-admin'],
    );
    assert.equal(kc.users?.[1]?.user.token, undefined);
    assert.equal(unb64(kc.users?.[1]?.user['client-key-data']), params().keyPem);
    assert.deepEqual(
      kc.contexts?.map((c) => c.name),
      ['prod', 'berth'],
    );
    assert.equal(kc['current-context'], 'berth');
    assert.deepEqual(kc.preferences, { colors: true });
  });

  test('adds new entries and can leave current-context alone', () => {
    const merged = mergeKubeconfig(
      existing,
      renderKubeconfig(params({ clusterName: 'dev', userName: 'dev-admin' })),
      {
        setCurrentContext: false,
      },
    );
    const kc = parse(merged) as Parsed;
    assert.deepEqual(
      kc.clusters?.map((c) => c.name),
      ['prod', 'berth', 'dev'],
    );
    assert.deepEqual(
      kc.users?.map((u) => u.name),
      ['prod-user', 'berth-admin', 'dev-admin'],
    );
    assert.deepEqual(
      kc.contexts?.map((c) => c.name),
      ['prod', 'berth', 'dev'],
    );
    assert.equal(kc['current-context'], 'prod');
  });

  test('merges into an empty file or one with null lists', () => {
    const fresh = parse(mergeKubeconfig('', renderKubeconfig(params()))) as Parsed;
    const { preferences: _preferences, ...rendered } = parse(renderKubeconfig(params())) as Parsed;
    assert.deepEqual(fresh, rendered);
    const nulls =
      'apiVersion: v1\nkind: Config\nclusters: null\nusers: null\ncontexts: null\ncurrent-context: ""\n';
    const kc = parse(mergeKubeconfig(nulls, renderKubeconfig(params()))) as Parsed;
    assert.deepEqual(
      kc.clusters?.map((c) => c.name),
      ['berth'],
    );
    assert.equal(kc['current-context'], 'berth');
  });

  test('is pure and rejects what is not a kubeconfig', () => {
    const before = existing;
    mergeKubeconfig(existing, renderKubeconfig(params()));
    assert.equal(existing, before);
    assert.throws(() => mergeKubeconfig('- a\n- b\n', renderKubeconfig(params())), /not a YAML mapping/);
    assert.throws(() => mergeKubeconfig('clusters: {}\n', renderKubeconfig(params())), /not a list/);
    assert.throws(() => mergeKubeconfig('a: [\n', renderKubeconfig(params())), /not valid YAML/);
    assert.throws(() => mergeKubeconfig('', 'clusters:\n  - cluster: {}\n'), /has no name/);
  });
});
