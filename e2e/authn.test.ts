/**
 * Authentication and the bootstrap authorizer with real kubectl: static bearer tokens, 401 for a bad
 * token, Kubernetes' Forbidden message for a user nothing grants, and the exported admin identity.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBerth, type BerthProcess } from './harness/berth.ts';
import { E2E_VERSIONS, kubectlRunner, requireKubectl } from './harness/kubectl.ts';

let b: BerthProcess;
before(async () => {
  b = await startBerth();
  writeFileSync(join(b.dataDir, 'tokens.csv'), 'tok-alice,alice,u-alice,"dev,qa"\n', { mode: 0o600 });
});
after(async () => {
  await b?.stop();
  b?.cleanup();
});

for (const version of E2E_VERSIONS) {
  describe(`kubectl ${version}`, { skip: requireKubectl(version) }, () => {
    const k = () => kubectlRunner(version, b.kubeconfig, b.home);
    const asToken = (token: string) => [
      '--server',
      b.url,
      '--certificate-authority',
      join(b.dataDir, 'pki', 'ca.crt'),
      '--token',
      token,
      '--kubeconfig',
      '/dev/null',
    ];

    it('authenticates a bearer token from tokens.csv', async () => {
      const who = await k().ok([...asToken('tok-alice'), 'auth', 'whoami']);
      assert.match(who, /Username\s+alice/);
      assert.match(who, /UID\s+u-alice/);
      assert.match(who, /Groups\s+\[dev qa system:authenticated\]/);
    });

    it('answers 401 to an unknown token', async () => {
      const r = await k().run([...asToken('nope'), 'get', 'pods']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /You must be logged in to the server|Unauthorized/);
    });

    it('forbids what nothing grants, with the Kubernetes message', async () => {
      const r = await k().run([...asToken('tok-alice'), 'get', 'pods', '-n', 'default']);
      assert.notEqual(r.code, 0);
      assert.match(
        r.stderr,
        /Error from server \(Forbidden\): pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"/,
      );
      const can = await k().run([...asToken('tok-alice'), 'auth', 'can-i', 'list', 'pods']);
      assert.equal(can.stdout.trim(), 'no');
      assert.equal((await k().ok(['auth', 'can-i', 'list', 'pods'])).trim(), 'yes');
    });

    it('never exports system:masters', async () => {
      const who = await k().ok(['auth', 'whoami', '-o', 'json']);
      const groups = (JSON.parse(who) as { status: { userInfo: { groups: string[] } } }).status.userInfo
        .groups;
      assert.ok(!groups.includes('system:masters'));
      assert.ok(groups.includes('berth:cluster-admins'));
    });
  });
}
