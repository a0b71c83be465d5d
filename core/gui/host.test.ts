/**
 * The GUI host: clusters created, stopped, started, deleted and their nodes managed through the
 * contract (simulated driver, in-process), progress broadcast to every session; the default cluster
 * of `npm start` without Docker; the local shell terminal with KUBECONFIG; the kubeconfig merge.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { createGuiHost } from './host.ts';
import { ensureDefaultCluster } from './default-cluster.ts';
import { mergeKubeconfig } from './kubeconfig-merge.ts';
import { LineSplitter } from './logs.ts';
import type { ClusterManager } from './manager.ts';
import type { GuiService, GuiSession } from './service.ts';
import type { ClusterProgressMessage, EventMessage, LogMessage, TerminalMessage } from './contract.ts';
import { waitFor } from '../testing/wait.ts';

describe('GUI host: hosted clusters', () => {
  let home: string;
  let service: GuiService;
  let manager: ClusterManager;
  let a: GuiSession;
  let b: GuiSession;
  const eventsA: EventMessage[] = [];
  const eventsB: EventMessage[] = [];
  let id = '';

  before(() => {
    home = mkdtempSync(join(tmpdir(), 'berth-host-'));
    ({ service, manager } = createGuiHost({
      clustersDir: join(home, 'clusters'),
      env: { HOME: home },
      start: async (o) =>
        (await import('../cluster/cluster.ts')).startCluster({
          ...o,
          simulated: { maxGraceSeconds: 1 },
        }),
    }));
    a = service.openSession((m) => eventsA.push(m));
    b = service.openSession((m) => eventsB.push(m));
  });
  after(async () => {
    a.close();
    b.close();
    await manager.closeAll();
    rmSync(home, { recursive: true, force: true });
  });

  const progress = (events: EventMessage[]): ClusterProgressMessage[] =>
    events.filter((e): e is ClusterProgressMessage => e.channel === 'clusters.progress' && e.cluster === id);

  test('create: listed at once as starting, then running with its nodes; progress reaches every session', async () => {
    const info = await a.call('clusters.create', { name: 'dev', nodes: 2, driver: 'simulated' });
    id = info.id;
    assert.equal(info.hosted?.phase, 'starting');
    assert.equal(info.hosted?.driver, 'simulated');
    await waitFor('running', () => progress(eventsA).some((e) => e.state.phase === 'running'), 30_000);
    assert.deepEqual(
      progress(eventsB).map((e) => e.state.phase),
      progress(eventsA).map((e) => e.state.phase),
      'the other window saw the same progress',
    );
    const listed = (await b.call('clusters.list', {})).find((c) => c.id === id);
    assert.equal(listed?.status, 'running');
    assert.equal(listed?.hosted?.phase, 'running');
    assert.equal((await a.call('nodes.list', { cluster: id })).length, 2);
  });

  test('bad parameters are refused', async () => {
    await assert.rejects(
      a.call('clusters.create', { name: 'Bad Name', nodes: 1, driver: 'simulated' }),
      /DNS label/,
    );
    await assert.rejects(
      a.call('clusters.create', { name: 'x', nodes: 1, driver: 'qemu' as 'docker' }),
      /driver/,
    );
    await assert.rejects(
      a.call('clusters.create', { name: 'dev', nodes: 1, driver: 'simulated' }),
      /already exists/,
    );
  });

  test('nodes: add, stop, start, remove through the driver', async () => {
    const added = await a.call('nodes.add', { cluster: id });
    assert.equal(added.name, 'dev-worker-3');
    assert.equal((await a.call('nodes.stop', { cluster: id, name: 'dev-worker-3' })).state, 'stopped');
    assert.equal((await a.call('nodes.start', { cluster: id, name: 'dev-worker-3' })).state, 'running');
    assert.deepEqual(await a.call('nodes.remove', { cluster: id, name: 'dev-worker-3' }), { removed: true });
    assert.deepEqual((await a.call('nodes.list', { cluster: id })).map((n) => n.name).sort(), [
      'dev-worker-1',
      'dev-worker-2',
    ]);
  });

  test('the local shell has KUBECONFIG set to the cluster', async () => {
    const out: string[] = [];
    const s = service.openSession((m) => {
      if (m.channel === 'terminal' && m.terminalId === 't1' && m.data) out.push(m.data);
    });
    try {
      await s.call('terminal.open', {
        cluster: id,
        terminalId: 't1',
        cols: 100,
        rows: 30,
        target: { kind: 'shell' },
      });
      await s.call('terminal.resize', { terminalId: 't1', cols: 120, rows: 40 });
      await s.call('terminal.input', { terminalId: 't1', data: 'echo "K=$KUBECONFIG"; stty size\r' });
      const file = join(home, 'clusters', 'dev', 'kubeconfig');
      await waitFor(
        'shell output',
        () => out.join('').includes(`K=${file}`) && out.join('').includes('40 120'),
        10_000,
      );
    } finally {
      s.close();
    }
  });

  test('a closed session ends its terminals', async () => {
    const msgs: TerminalMessage[] = [];
    const s = service.openSession((m) => m.channel === 'terminal' && msgs.push(m));
    await s.call('terminal.open', {
      cluster: id,
      terminalId: 't2',
      cols: 80,
      rows: 24,
      target: { kind: 'shell' },
    });
    assert.deepEqual(await s.call('terminal.close', { terminalId: 't2' }), { closed: true });
    await waitFor('exit', () => msgs.some((m) => m.exit), 10_000);
    s.close();
  });

  test('stop, start again (resume), then delete removes the data dir', async () => {
    assert.equal((await a.call('clusters.stop', { cluster: id })).hosted?.phase, 'stopped');
    assert.equal((await a.call('clusters.list', {})).find((c) => c.id === id)?.status, 'unreachable');
    await a.call('clusters.start', { cluster: id });
    await manager.settled(id);
    assert.equal((await a.call('clusters.list', {})).find((c) => c.id === id)?.hosted?.phase, 'running');
    assert.equal((await a.call('nodes.list', { cluster: id })).length, 2, 'nodes resumed');
    assert.deepEqual(await a.call('clusters.delete', { cluster: id }), { deleted: true });
    assert.ok(!existsSync(join(home, 'clusters', 'dev')));
    assert.ok(!(await a.call('clusters.list', {})).some((c) => c.id === id));
  });

  test('npm start without Docker: a control plane only, with a notice saying how to get nodes', async () => {
    const r = await ensureDefaultCluster(manager, {
      dockerCheck: async () => 'connect ENOENT /var/run/docker.sock',
    });
    assert.equal(r.action, 'created');
    assert.match(r.notice ?? '', /no Docker engine answered.*start Docker/s);
    await manager.settled(r.id);
    const info = (await a.call('clusters.list', {})).find((c) => c.id === r.id);
    assert.equal(info?.hosted?.phase, 'running');
    assert.equal(info?.hosted?.driver, undefined);
    assert.equal((await ensureDefaultCluster(manager)).action, 'already-hosted');
    await a.call('clusters.delete', { cluster: r.id });
  });
});

test('kubeconfig merge: adds berth-<name> entries, replaces old ones, keeps the current context', () => {
  const cluster = [
    'apiVersion: v1',
    'kind: Config',
    'clusters: [{name: berth, cluster: {server: "https://127.0.0.1:7000", certificate-authority-data: QQ==}}]',
    'users: [{name: admin, user: {client-certificate-data: Qg==, client-key-data: Qw==}}]',
    'contexts: [{name: berth, context: {cluster: berth, user: admin}}]',
    'current-context: berth',
  ].join('\n');
  const existing = [
    'apiVersion: v1',
    'kind: Config',
    'clusters: [{name: other, cluster: {server: "https://other.berth.test:6443"}}, {name: berth-dev, cluster: {server: old}}]',
    'users: [{name: other, user: {token: t}}]',
    'contexts: [{name: other, context: {cluster: other, user: other}}]',
    'current-context: other',
  ].join('\n');
  const merged = parse(mergeKubeconfig(existing, cluster, 'berth-dev')) as {
    clusters: { name: string; cluster: { server: string } }[];
    users: { name: string }[];
    contexts: { name: string; context: { cluster: string; user: string } }[];
    'current-context': string;
  };
  assert.deepEqual(
    merged.clusters.map((c) => [c.name, c.cluster.server]),
    [
      ['other', 'https://other.berth.test:6443'],
      ['berth-dev', 'https://127.0.0.1:7000'],
    ],
  );
  assert.deepEqual(
    merged.users.map((u) => u.name),
    ['other', 'berth-dev'],
  );
  assert.deepEqual(merged.contexts[1], {
    name: 'berth-dev',
    context: { cluster: 'berth-dev', user: 'berth-dev' },
  });
  assert.equal(merged['current-context'], 'other');
  assert.equal(
    (parse(mergeKubeconfig('', cluster, 'berth-dev')) as { 'current-context': string })['current-context'],
    'berth-dev',
  );
  assert.throws(() => mergeKubeconfig('- a list', cluster, 'x'), /not a kubeconfig/);
});

test('kubeconfig merge into a file backs the old file up first', async () => {
  const { mergeIntoFile } = await import('./kubeconfig-merge.ts');
  const dir = mkdtempSync(join(tmpdir(), 'berth-merge-'));
  try {
    const file = join(dir, 'config');
    const src =
      'clusters: [{name: c, cluster: {server: s}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n';
    const first = mergeIntoFile(file, src, 'a');
    assert.equal(first.backup, undefined);
    writeFileSync(file, readFileSync(file, 'utf8') + '# mine\n');
    const second = mergeIntoFile(file, src, 'b');
    assert.ok(second.backup && readFileSync(second.backup, 'utf8').includes('# mine'));
    assert.equal(readdirSync(dir).length, 2);
    assert.match(readFileSync(file, 'utf8'), /berth-a[\s\S]*berth-b/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('log lines are split across chunks', () => {
  const s = new LineSplitter();
  assert.deepEqual(s.push('a\nb'), ['a']);
  assert.deepEqual(s.push('c\r\nd\n'), ['bc', 'd']);
  assert.deepEqual(s.push('tail'), []);
  assert.deepEqual(s.flush(), ['tail']);
});

test('log streams: lines split across chunks, merged with a prefix; a refused stream reports the server’s reason', async () => {
  const http = await import('node:http');
  const { KubeConfig } = await import('@kubernetes/client-node');
  const { KubeClient } = await import('./kube-client.ts');
  const { LogSet } = await import('./logs.ts');
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/api/v1/namespaces/d/pods/a/log') {
      assert.equal(url.searchParams.get('container'), 'c');
      assert.equal(url.searchParams.get('timestamps'), 'true');
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('one\ntw');
      setTimeout(() => res.end('o\nthree'), 20);
      return;
    }
    res.writeHead(503, { 'Content-Type': 'application/json' });
    res.end(
      JSON.stringify({ kind: 'Status', status: 'Failure', code: 503, message: 'no node client credentials' }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  const client = new KubeClient(kc);
  const msgs: LogMessage[] = [];
  const logs = new LogSet((m) => msgs.push(m));
  try {
    const base = { client, namespace: 'd', follow: true, previous: false, timestamps: true };
    await logs.start('m', {
      ...base,
      streams: [
        { pod: 'a', container: 'c' },
        { pod: 'b', container: 'c' },
      ],
    });
    await waitFor('both ended', () => msgs.filter((m) => m.ended).length === 2, 5000);
    assert.deepEqual(
      msgs.flatMap((m) => m.lines ?? []),
      ['[a/c] one', '[a/c] two', '[a/c] three'],
    );
    assert.match(msgs.find((m) => m.ended?.pod === 'b')?.ended?.error ?? '', /no node client credentials/);
    await assert.rejects(
      logs.start('s', { ...base, streams: [{ pod: 'b', container: 'c' }] }),
      /no node client credentials/,
    );
  } finally {
    logs.closeAll();
    server.close();
  }
});
