// kubectl logs (1.27 and 1.33) through the API server to a fake agent: parameters passed on,
// streaming with -f, errors as Status, `logs deploy/x`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { KObject } from '../../api/object.ts';
import {
  E2E_VERSIONS,
  kubectlRunner,
  requireKubectl,
  type KubectlVersion,
} from '../../../e2e/harness/kubectl.ts';
import { startStreamCluster, type StreamCluster } from '../../streams/testing/stream-cluster.ts';
import { agentLogQuery } from './pod-log.ts';

let c: StreamCluster;
before(async () => {
  c = await startStreamCluster();
  const ctx = c.server.context({ username: 'test', groups: ['berth:cluster-admins'] });
  c.server.registry.create(
    c.server.table.lookup('apps', 'v1', 'deployments')!,
    'default',
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x', namespace: 'default' },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'main', image: 'busybox' }] },
        },
      },
    } as unknown as KObject,
    ctx,
  );
});
after(async () => c.close());

test('agentLogQuery passes the options on and refuses bad ones', () => {
  const q = agentLogQuery(
    new URLSearchParams(
      'follow=true&previous=false&tailLines=3&sinceSeconds=10&timestamps=1&limitBytes=100&pretty=false',
    ),
    'uid-1',
  );
  assert.equal(
    q.toString(),
    'follow=true&timestamps=true&tailLines=3&sinceSeconds=10&limitBytes=100&podUID=uid-1',
  );
  assert.equal(
    agentLogQuery(new URLSearchParams('sinceTime=2026-11-23T10:00:00Z'), '').get('sinceTime'),
    '2026-11-23T10:00:00Z',
  );
  assert.throws(() => agentLogQuery(new URLSearchParams('tailLines=x'), ''), /invalid integer/);
  assert.throws(() => agentLogQuery(new URLSearchParams('sinceSeconds=0'), ''), /must be greater than 0/);
  assert.throws(
    () => agentLogQuery(new URLSearchParams('sinceSeconds=5&sinceTime=2026-11-23T10:00:00Z'), ''),
    /at most one/,
  );
});

for (const version of E2E_VERSIONS) {
  describe(`kubectl ${version} logs`, { skip: requireKubectl(version) }, () => {
    const k = () => {
      const home = join(c.dir, `home-logs-${version}`);
      mkdirSync(home, { recursive: true });
      return kubectlRunner(version as KubectlVersion, c.adminKubeconfig, home);
    };

    test('plain, -f, --tail/--since/--timestamps, -c, deploy/x', async () => {
      assert.equal(await k().ok(['logs', 'web']), 'line 1\nline 2\n');
      assert.equal(await k().ok(['logs', '-f', 'web']), 'line 1\nline 2\nline 3\nline 4\nline 5\n');
      assert.equal(
        await k().ok(['logs', 'web', '--tail=2', '--since=5m', '--timestamps', '--limit-bytes=1000']),
        '2026-11-23T10:00:00.000000000Z line 1\n2026-11-23T10:00:00.000000000Z line 2\n',
      );
      const last = c.agent.requests.at(-1) ?? '';
      assert.match(last, /^\/containerLogs\/default\/web\/main\?/);
      const q = new URL(last, 'https://x').searchParams;
      assert.equal(q.get('tailLines'), '2');
      assert.equal(q.get('sinceSeconds'), '300');
      assert.equal(q.get('timestamps'), 'true');
      assert.equal(q.get('limitBytes'), '1000');
      assert.equal(await k().ok(['logs', 'two', '-c', 'side']), 'line 1\nline 2\n');
      assert.match(c.agent.requests.at(-1) ?? '', /^\/containerLogs\/default\/two\/side\?/);
      assert.equal(await k().ok(['logs', 'deploy/x']), 'line 1\nline 2\n');
    });

    test('errors arrive as the Status kubectl prints', async () => {
      const waiting = await k().run(['logs', 'two', '-c', 'waiting']);
      assert.notEqual(waiting.code, 0);
      assert.match(waiting.stderr, /container "waiting" in pod "two" is waiting to start: ContainerCreating/);
      const pending = await k().run(['logs', 'pending']);
      assert.match(pending.stderr, /pod pending does not have a host assigned/);
      const missing = await k().run(['logs', 'nope']);
      assert.match(missing.stderr, /pods "nope" not found/);
    });
  });
}
