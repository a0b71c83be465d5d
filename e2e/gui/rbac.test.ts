/**
 * Issue "The desktop app", RBAC: against `berth serve` hosting a cluster created from the GUI
 * (simulated node), create user alice with ClusterRole view in default from the RBAC page; her matrix
 * for default allows get/list/watch on pods and nothing on secrets, each allowed cell naming the
 * RoleBinding default/alice-view → ClusterRole view (hover and side panel; the role's rules open from
 * its link); her kubeconfig, downloaded from the GUI, works with real kubectl 1.27 and 1.33 (get pods
 * works, get secrets is Forbidden); "view as alice" disables a pod's terminal button with the reason,
 * and leaving view-as restores it. Screenshots go to test-artifacts/gui/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { uniqueClusterName } from '../harness/docker-cluster.ts';
import { E2E_VERSIONS, kubectlRunner, requireKubectl } from '../harness/kubectl.ts';
import {
  createClusterInGui,
  launchChromium,
  requireChromium,
  startServe,
  waitClusterRunning,
  type Browser,
  type ServeProcess,
} from './harness.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const artifacts = join(root, 'test-artifacts', 'gui');
const skip = requireChromium() ?? requireKubectl('1.27') ?? requireKubectl('1.33');
if (skip) console.log(`# skipping GUI RBAC e2e: ${skip}`);
const name = uniqueClusterName('t-guirbac');

const WORKLOAD = `apiVersion: v1
kind: Pod
metadata: { name: web, namespace: default }
spec:
  containers: [{ name: app, image: registry.berth.test/web:1 }]
---
apiVersion: v1
kind: Secret
metadata: { name: db-password, namespace: default }
stringData: { password: hunter2 }
`;

const GRANT = 'RoleBinding default/alice-view → ClusterRole view';
const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'update', 'patch', 'delete', 'deletecollection'];

describe(
  'GUI RBAC: users, matrix, view as (simulated node)',
  { skip: skip ?? false, timeout: 600_000 },
  () => {
    let home: string;
    let dataDir: string;
    let serve: ServeProcess;
    let browser: Browser;
    let page: Page;
    let aliceKubeconfig: string;

    const cell = (resource: string, verb: string): ReturnType<Page['locator']> =>
      page.locator(`[data-testid=matrix-cell][data-resource="${resource}"][data-verb="${verb}"]`);
    const userRow = (): ReturnType<Page['locator']> =>
      page.locator('[data-testid=user-row][data-name=alice]');

    before(async () => {
      home = mkdtempSync(join(tmpdir(), 'berth-guirbac-home-'));
      mkdirSync(artifacts, { recursive: true });
      const clustersDir = join(home, 'clusters');
      dataDir = join(clustersDir, name);
      serve = await startServe(join(home, 'none'), home, 180_000, ['--clusters-dir', clustersDir]);
      browser = await launchChromium();
      page = await browser.context.newPage();
      await page.goto(serve.url);
      await createClusterInGui(page, name, 1, 'simulated');
      await waitClusterRunning(page, name, 180_000);
      const admin = kubectlRunner('1.33', join(dataDir, 'kubeconfig'), home);
      await admin.ok(['apply', '-f', '-'], { input: WORKLOAD });
    });
    after(async () => {
      await page?.screenshot({ path: join(artifacts, 'rbac-final.png') }).catch(() => {});
      await browser?.close();
      await serve?.stop();
      if (home) rmSync(home, { recursive: true, force: true });
    });

    it('creates user alice with ClusterRole view in default from the RBAC page', async () => {
      await page.getByTestId('nav-rbac').click();
      await page.getByTestId('rbac-tab-users').click();
      await page.getByTestId('user-create-name').fill('alice');
      await page.getByTestId('user-create-groups').fill('devs');
      await page.getByTestId('user-create-role').fill('view');
      await page.getByTestId('user-create-namespace').selectOption('default');
      await page.getByTestId('user-create-submit').click();
      const message = page.getByTestId('users-message');
      await message.waitFor({ timeout: 30_000 });
      assert.equal(
        (await message.textContent())?.trim(),
        'created user "alice" and RoleBinding default/alice-view → ClusterRole view',
      );
      await page.locator('[data-testid=user-row][data-name=alice][data-state=valid]').waitFor();
      const cells = await userRow().locator('td').allTextContents();
      assert.equal(cells[1], 'devs', 'groups');
      assert.match(cells[2] ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/, 'created');
      assert.match(cells[3] ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/, 'expires');
      // Creating her again says what to do instead.
      await page.getByTestId('user-create-name').fill('alice');
      await page.getByTestId('user-create-submit').click();
      await message.filter({ hasText: 'revoke it first (Revoke in its row)' }).waitFor({ timeout: 30_000 });
      await page.screenshot({ path: join(artifacts, 'rbac-users.png') });
    });

    it("alice's matrix in default: get/list/watch pods via RoleBinding default/alice-view → ClusterRole view, nothing on secrets", async () => {
      await userRow().getByTestId('user-matrix').click();
      await page.getByTestId('access-matrix').waitFor({ timeout: 60_000 });
      // Her certificate's group is part of the identity the API server was asked about.
      assert.match(
        (await page.getByTestId('matrix-title').textContent()) ?? '',
        /User alice in default\s+as alice \(devs, system:authenticated\)/,
      );
      for (const verb of READ) {
        assert.equal(await cell('pods', verb).getAttribute('data-allowed'), 'true', `${verb} pods`);
        assert.equal(await cell('pods', verb).getAttribute('title'), GRANT, `${verb} pods names its grant`);
      }
      for (const verb of WRITE)
        assert.equal(await cell('pods', verb).getAttribute('data-allowed'), 'false', `${verb} pods`);
      for (const verb of [...READ, ...WRITE])
        assert.equal(await cell('secrets', verb).getAttribute('data-allowed'), 'false', `${verb} secrets`);
      assert.equal(
        await cell('pods/exec', 'create').getAttribute('data-allowed'),
        'false',
        'create pods/exec',
      );
      // Every allowed cell names the view ClusterRole and its binding.
      const allowedTitles = await page
        .locator('[data-testid=matrix-cell][data-allowed=true]')
        .evaluateAll((els) => els.map((e) => e.getAttribute('title') ?? ''));
      assert.ok(allowedTitles.length >= 3);
      for (const t of allowedTitles) assert.ok(t.split('\n').includes(GRANT), `allowed cell titled "${t}"`);

      // Click: the side panel names binding → role, with the rule that matched; the role opens.
      await cell('pods', 'list').click();
      const grant = page.getByTestId('matrix-grant');
      assert.equal(await grant.count(), 1);
      assert.equal(
        (await grant.getByTestId('matrix-grant-binding').textContent())?.trim(),
        'RoleBinding default/alice-view',
      );
      assert.equal((await grant.getByTestId('matrix-grant-role').textContent())?.trim(), 'ClusterRole view');
      assert.match((await grant.textContent()) ?? '', /via User alice/);
      await page.screenshot({ path: join(artifacts, 'rbac-matrix.png') });
      await cell('secrets', 'get').click();
      await page.getByTestId('matrix-grant-none').waitFor();

      await cell('pods', 'get').click();
      await page.getByTestId('matrix-grant-role').click();
      const detail = page.locator('[data-testid=rbac-detail][data-kind=ClusterRole][data-name=view]');
      await detail.getByTestId('rbac-rule').first().waitFor({ timeout: 30_000 });
      const rules = (await detail.getByTestId('rbac-rules').textContent()) ?? '';
      assert.match(rules, /pods/);
      assert.doesNotMatch(rules, /\bsecrets\b/, 'view grants no secrets');
      // Closing the role shows the cell's grants again; the binding's detail lists alice and links the role.
      await detail.getByTestId('rbac-detail-close').click();
      await page.getByTestId('matrix-grant-binding').click();
      const b = page.locator('[data-testid=rbac-detail][data-kind=RoleBinding][data-name=alice-view]');
      await b.locator('[data-testid=rbac-subject][data-name=alice]').waitFor({ timeout: 30_000 });
      assert.equal((await b.getByTestId('rbac-role-link').textContent())?.trim(), 'ClusterRole view');
      await page.screenshot({ path: join(artifacts, 'rbac-binding.png') });
      await b.getByTestId('rbac-detail-close').click();

      // The Bindings and Service accounts tabs list them live; a binding opens, its role link opens the role.
      await page.getByTestId('rbac-tab-bindings').click();
      const bindingRow = page.locator(
        '[data-testid=table-rolebindings] [data-testid=row][data-key="default/alice-view"]',
      );
      await bindingRow.waitFor({ timeout: 30_000 });
      assert.match((await bindingRow.textContent()) ?? '', /ClusterRole\/view.*User alice/);
      assert.ok(
        Number(await page.getByTestId('table-clusterrolebindings').getAttribute('data-count')) > 10,
        'the default ClusterRoleBindings are listed',
      );
      await bindingRow.click();
      await page
        .locator('[data-testid=rbac-detail][data-kind=RoleBinding]')
        .getByTestId('rbac-role-link')
        .click();
      await page
        .locator('[data-testid=rbac-detail][data-kind=ClusterRole][data-name=view]')
        .getByTestId('rbac-rule')
        .first()
        .waitFor({ timeout: 30_000 });
      await page.screenshot({ path: join(artifacts, 'rbac-bindings.png') });
      await page.getByTestId('rbac-detail-close').click();
      await page.getByTestId('rbac-tab-serviceaccounts').click();
      await page
        .locator('[data-testid=table-serviceaccounts] [data-testid=row][data-key="default/default"]')
        .waitFor({ timeout: 30_000 });
    });

    it('her downloaded kubeconfig works with kubectl 1.27 and 1.33: get pods works, get secrets is Forbidden', async () => {
      await page.getByTestId('rbac-tab-users').click();
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        userRow().getByTestId('user-kubeconfig').click(),
      ]);
      assert.equal(download.suggestedFilename(), 'alice.kubeconfig');
      aliceKubeconfig = join(home, 'alice.kubeconfig');
      await download.saveAs(aliceKubeconfig);
      assert.match(readFileSync(aliceKubeconfig, 'utf8'), /client-certificate-data/);
      for (const v of E2E_VERSIONS) {
        const k = kubectlRunner(v, aliceKubeconfig, home);
        const pods = await k.ok(['get', 'pods', '-n', 'default', '-o', 'name']);
        assert.match(pods, /^pod\/web$/m, `kubectl.${v} get pods as alice`);
        const secrets = await k.run(['get', 'secrets', '-n', 'default']);
        assert.notEqual(secrets.code, 0, `kubectl.${v} get secrets as alice must fail`);
        assert.match(
          secrets.stderr,
          /Forbidden.*User "alice" cannot list resource "secrets"/,
          `kubectl.${v}: ${secrets.stderr}`,
        );
      }
    });

    it('"view as alice": her exec is refused by the API server (shown), the terminal button is disabled with the reason; leaving restores it', async () => {
      // As ourselves first: an exec terminal on the pod (simulated node: it may end at once; the page stays).
      await page.getByTestId('nav-pods').click();
      await page.locator('[data-testid=row][data-name=web]').click();
      assert.ok(await page.getByTestId('action-exec').isEnabled(), 'exec offered outside view-as');
      await page.getByTestId('action-exec').click();
      await page.locator('[data-testid=terminal]:not([data-state=opening])').waitFor({ timeout: 30_000 });

      await page.getByTestId('nav-rbac').click();
      await page.getByTestId('rbac-tab-matrix').click();
      await page.getByTestId('matrix-view-as').click();
      const banner = page.getByTestId('view-as-banner');
      await banner.waitFor({ timeout: 30_000 });
      assert.match((await banner.textContent()) ?? '', /Viewing as User alice/);
      assert.match((await banner.textContent()) ?? '', /Impersonate-User: alice, Impersonate-Group: devs/);

      // The terminal again, now as alice: the API server refuses (403) and the terminal says so.
      await page.getByTestId('nav-shell').click();
      await page.getByTestId('terminal-reconnect').click();
      const refused = page.getByTestId('terminal-exit').filter({ hasText: '403' });
      await refused.waitFor({ timeout: 30_000 });
      console.log(`# terminal as alice: ${await refused.textContent()}`);
      assert.match((await refused.textContent()) ?? '', /alice cannot create pods\/exec in default/);
      await page.screenshot({ path: join(artifacts, 'rbac-view-as-exec-refused.png') });
      // A new local shell would run with our own credentials: not offered while viewing as alice.
      assert.ok(await page.getByTestId('nav-shell').isDisabled());

      await page.getByTestId('nav-pods').click();
      // The list is read as alice: default (she may not list pods in all namespaces).
      assert.equal(await page.getByTestId('namespace-filter').inputValue(), 'default');
      await page.locator('[data-testid=row][data-name=web]').click();
      const exec = page.getByTestId('action-exec');
      const denied = page.getByTestId('exec-denied');
      await denied
        .filter({ hasText: 'alice cannot create pods/exec in default' })
        .waitFor({ timeout: 30_000 });
      assert.ok(await exec.isDisabled(), 'the terminal button is disabled');
      assert.equal(await exec.getAttribute('title'), 'alice cannot create pods/exec in default');
      await page.screenshot({ path: join(artifacts, 'rbac-view-as.png') });

      await page.getByTestId('view-as-leave').click();
      await banner.waitFor({ state: 'detached', timeout: 30_000 });
      await page.waitForFunction(
        () => !(document.querySelector('[data-testid=action-exec]') as HTMLButtonElement | null)?.disabled,
        undefined,
        { timeout: 30_000 },
      );
      assert.equal(await denied.count(), 0);
      assert.ok(await page.getByTestId('nav-shell').isEnabled());
      await page.screenshot({ path: join(artifacts, 'rbac-view-as-left.png') });
      await page.getByTestId('nav-shell').click();
      await page.locator('[data-testid=terminal]:not([data-state=opening])').waitFor({ timeout: 30_000 });
      assert.equal(await page.getByTestId('terminal-exit').filter({ hasText: '403' }).count(), 0);
    });

    it('revoking alice (after confirming) makes the API server refuse her certificate', async () => {
      await page.getByTestId('nav-rbac').click();
      await page.getByTestId('rbac-tab-users').click();
      await userRow().getByTestId('user-revoke').click();
      await userRow().getByTestId('user-revoke-yes').click();
      await page
        .locator('[data-testid=user-row][data-name=alice][data-state=revoked]')
        .waitFor({ timeout: 30_000 });
      const r = await kubectlRunner('1.33', aliceKubeconfig, home).run(['get', 'pods', '-n', 'default']);
      assert.notEqual(r.code, 0, 'a revoked certificate is refused');
      assert.match(r.stderr, /Unauthorized|must be logged in/, r.stderr);
    });
  },
);
