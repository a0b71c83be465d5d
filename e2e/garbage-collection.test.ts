/**
 * Cascading deletion with real kubectl: background (dependents follow), --cascade=orphan (dependents stay,
 * without the owner reference) and --cascade=foreground (kubectl returns once dependents are gone too).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startBerth, type BerthProcess } from './harness/berth.ts';
import { E2E_VERSIONS, kubectlRunner, requireKubectl, type KubectlRunner } from './harness/kubectl.ts';

let b: BerthProcess;
before(async () => {
  b = await startBerth();
});
after(async () => {
  await b?.stop();
  b?.cleanup();
});

async function ownerAndDependent(k: KubectlRunner, ns: string, owner: string): Promise<void> {
  await k.ok(['create', 'configmap', owner, '-n', ns]);
  const uid = (await k.ok(['get', 'cm', owner, '-n', ns, '-o', 'jsonpath={.metadata.uid}'])).trim();
  const dep = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: `${owner}-dep`,
      ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: owner, uid, blockOwnerDeletion: true }],
    },
  };
  await k.ok(['create', '-n', ns, '-f', '-'], { input: JSON.stringify(dep) });
}

async function eventually(f: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

for (const version of E2E_VERSIONS) {
  describe(`kubectl ${version}`, { skip: requireKubectl(version) }, () => {
    const ns = `gc-${version.replace('.', '')}`;
    const k = () => kubectlRunner(version, b.kubeconfig, b.home);
    before(async () => {
      await k().ok(['create', 'ns', ns]);
    });

    it('background: dependents are deleted after their owner', async () => {
      await ownerAndDependent(k(), ns, 'bg');
      await k().ok(['delete', 'cm', 'bg', '-n', ns]);
      await eventually(async () => (await k().run(['get', 'cm', 'bg-dep', '-n', ns])).code !== 0);
    });

    it('orphan: dependents stay and lose the owner reference', async () => {
      await ownerAndDependent(k(), ns, 'or');
      await k().ok(['delete', 'cm', 'or', '-n', ns, '--cascade=orphan'], { timeoutMs: 20_000 });
      assert.notEqual((await k().run(['get', 'cm', 'or', '-n', ns])).code, 0);
      const refs = await k().ok([
        'get',
        'cm',
        'or-dep',
        '-n',
        ns,
        '-o',
        'jsonpath={.metadata.ownerReferences}',
      ]);
      assert.equal(refs.trim(), '');
    });

    it('foreground: kubectl returns once the owner and its dependents are gone', async () => {
      await ownerAndDependent(k(), ns, 'fg');
      await k().ok(['delete', 'cm', 'fg', '-n', ns, '--cascade=foreground'], { timeoutMs: 20_000 });
      assert.notEqual((await k().run(['get', 'cm', 'fg-dep', '-n', ns])).code, 0);
      assert.notEqual((await k().run(['get', 'cm', 'fg', '-n', ns])).code, 0);
    });
  });
}
