/**
 * The GUI's manifest editor, events, "why Pending" and object actions, in Debian's Chromium through
 * `berth serve`, against `berth up --driver simulated --nodes 2` (pods only need to be scheduled).
 * - Editor: Monaco + monaco-yaml with the schema from the cluster's /openapi/v3: `replicas: "three"`
 *   is flagged on its line before anything is sent, completion offers DeploymentSpec fields; after the
 *   fix, Diff (server-side dry run) and Apply; the pods appear and turn Running live. An object opened
 *   as YAML has no managedFields; an edit shows in the diff editor and applies; a conflict with another
 *   field manager is forced only after confirming; a server-side Invalid error lands on its field's line.
 * - Events: the events view filtered by involved object, and the pod's events in its detail panel.
 * - Why Pending: the per-node verdict table with requested vs allocatable.
 * - Actions: scale, restart (kubectl's restartedAt annotation), delete after confirmation.
 * Screenshots go to test-artifacts/gui/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Locator, Page } from 'playwright-core';
import { startBerth, type BerthProcess } from '../harness/berth.ts';
import { kubectlRunner, requireKubectl, type KubectlRunner } from '../harness/kubectl.ts';
import { eventually } from '../harness/wait.ts';
import {
  launchChromium,
  openEditor,
  pasteIntoEditor,
  requireChromium,
  startServe,
  type Browser,
  type ServeProcess,
} from './harness.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const artifacts = join(root, 'test-artifacts', 'gui');
const skip = requireChromium() ?? requireKubectl('1.33');
if (skip) console.log(`# skipping GUI editor e2e: ${skip}`);

const MANIFEST = (replicas: string): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: ${replicas}
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: registry.berth.test/web:1
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
    - port: 80
`;

describe(
  'GUI manifest editor, events, why Pending and actions',
  { skip: skip ?? false, timeout: 300_000 },
  () => {
    let berth: BerthProcess;
    let serve: ServeProcess;
    let browser: Browser;
    let kubectl: KubectlRunner;
    let page: Page;
    const pageProblems: string[] = [];

    const shot = async (name: string): Promise<void> => {
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
    };
    const editor = (): Locator => page.getByTestId('yaml-editor');
    const setText = (text: string): Promise<void> => pasteIntoEditor(page, text);
    /** Waits until the editor's outcome line matches. */
    const outcome = (what: string, re: RegExp): Promise<boolean> =>
      eventually(what, async () =>
        re.test(
          await page
            .getByTestId('editor-outcome')
            .innerText()
            .catch(() => ''),
        ),
      );
    /** spec.replicas of deployment/web, as kubectl reads it. */
    const replicas = (): Promise<string> =>
      kubectl.ok(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}']);
    const problems = (): Locator => page.getByTestId('problem');
    const row = (view: string, name: string): Locator =>
      page.getByTestId(`table-${view}`).locator(`[data-testid="row"][data-name="${name}"]`);

    before(async () => {
      berth = await startBerth({ args: ['--driver', 'simulated', '--nodes', '2'] });
      kubectl = kubectlRunner('1.33', berth.kubeconfig, berth.home);
      serve = await startServe(berth.dataDir, berth.home);
      browser = await launchChromium();
      page = await browser.context.newPage();
      page.on('console', (m) => {
        if (m.type() === 'error') pageProblems.push(m.text());
      });
      page.on('pageerror', (e) => pageProblems.push(e.message));
      await page.goto(serve.url);
      await page.getByTestId('connection').filter({ hasText: 'open' }).waitFor();
    });
    after(async () => {
      await browser?.close();
      await serve?.stop();
      await berth?.stop();
      berth?.cleanup();
    });

    it('flags a schema error on its line before apply, and completes fields from the OpenAPI', async () => {
      await openEditor(page);
      await setText(
        MANIFEST('"three"').replace(
          '  name: web\nspec:\n  selector',
          '  name: web\n  labelz: x\nspec:\n  selector',
        ),
      );
      await eventually('schema of both kinds loaded', async () =>
        /Deployment, Service/.test(await page.getByTestId('editor-schema').innerText()),
      );
      const bad = problems().and(page.locator('[data-line="6"]'));
      await bad.waitFor({ timeout: 20_000 });
      assert.match(await bad.innerText(), /integer/i, 'replicas: "three" is not an integer');
      const unknown = problems().and(page.locator('[data-line="23"]'));
      assert.match(await unknown.innerText(), /labelz is not allowed/, 'an unknown field is flagged');
      await shot('editor-schema-error');

      // Completion: a new line under spec offers DeploymentSpec's fields.
      await editor().locator('.view-line').filter({ hasText: 'replicas:' }).click();
      await page.keyboard.press('End');
      await page.keyboard.press('Enter');
      await page.keyboard.type('revisionH');
      await page.keyboard.press('Control+Space');
      const suggest = page.locator('.suggest-widget');
      await eventually('revisionHistoryLimit suggested', async () =>
        /revisionHistoryLimit/.test(await suggest.innerText().catch(() => '')),
      );
      await page.keyboard.press('Escape');
      await shot('editor-completion');
    });

    it('diffs and applies the fixed manifest; its pods turn Running live', async () => {
      await setText(MANIFEST('2'));
      await eventually('no problems left', async () => (await problems().count()) === 0, 20_000);
      await page.getByTestId('editor-diff').click();
      await page.getByTestId('editor-diff-view').locator('.monaco-diff-editor').waitFor();
      assert.match(await page.getByTestId('editor-outcome').innerText(), /dry run: 2 documents would apply/);
      await page.getByTestId('editor-apply').click();
      await outcome('applied', /applied 2 documents/);
      const actions = await page
        .getByTestId('apply-results')
        .locator('tr')
        .evaluateAll((rows) =>
          rows.map((r) => `${r.getAttribute('data-name')}:${r.getAttribute('data-action')}`),
        );
      assert.deepEqual(actions, ['web:created', 'web:created']);
      assert.match(await kubectl.ok(['get', 'service', 'web', '-o', 'name']), /service\/web/);

      await page.getByTestId('editor-close').click();
      await page.getByTestId('nav-pods').click();
      const pods = page.getByTestId('table-pods').locator('[data-testid="row"][data-name^="web-"]');
      await eventually('2 web pods Running', async () => {
        const rows = await pods.allInnerTexts();
        return rows.length === 2 && rows.every((r) => /\bRunning\b/.test(r));
      });
    });

    it('opens an object as YAML, shows an edit in the diff editor, applies it', async () => {
      await page.getByTestId('nav-deployments').click();
      await row('deployments', 'web').click();
      await page.getByTestId('action-edit').click();
      await editor().and(page.locator('[data-ready="true"]')).waitFor({ timeout: 30_000 });
      const text = await editor().locator('.view-lines').innerText();
      assert.match(text, /kind:\s*Deployment/);
      assert.doesNotMatch(text, /managedFields/);
      // Type over the replica count, as a user would.
      await editor().locator('.view-line').filter({ hasText: 'replicas: 2' }).click();
      await page.keyboard.press('End');
      await page.keyboard.press('Backspace');
      await page.keyboard.type('3');
      await page.getByTestId('editor-diff').click();
      const diff = page.getByTestId('editor-diff-view');
      await diff.locator('.monaco-diff-editor').waitFor();
      let seen = '';
      await eventually('the diff shows 2 → 3', async () => {
        seen = await diff.innerText();
        return /replicas:\s2/.test(seen) && /replicas:\s3/.test(seen);
      }).catch(async (e: unknown) => {
        await shot('editor-diff-failed');
        throw new Error(`${String(e)}; the diff view shows:\n${seen}`);
      });
      await shot('editor-diff');
      assert.match(await replicas(), /^2$/);
      await page.getByTestId('editor-apply').click();
      await outcome('applied', /applied 1 document$/);
      assert.match(await replicas(), /^3$/);
    });

    it('forces a conflicting apply only after confirmation', async () => {
      // Another manager takes spec.replicas over.
      await kubectl.ok(['scale', 'deploy', 'web', '--replicas=4']);
      await kubectl.ok(
        ['apply', '--server-side', '--force-conflicts', '--field-manager=someone-else', '-f', '-'],
        { input: MANIFEST('4').split('---')[0] },
      );
      await page.getByTestId('editor-apply').click();
      const conflict = page.getByTestId('editor-conflict');
      await conflict.waitFor();
      assert.match(await conflict.innerText(), /conflict/i);
      assert.match(await replicas(), /^4$/);
      await shot('editor-conflict');
      await page.getByTestId('editor-force').click();
      await outcome('forced', /applied 1 document$/);
      assert.match(await replicas(), /^3$/);
    });

    it('shows a server-side error at the line of its field', async () => {
      await openEditor(page);
      await setText(`apiVersion: v1
kind: ConfigMap
metadata:
  name: ok-one
---
apiVersion: v1
kind: Service
metadata:
  name: bad-port
spec:
  ports:
    - port: 70000
`);
      await page.getByTestId('editor-apply').click();
      const serverProblem = problems().and(page.locator('[data-source="server"]'));
      await serverProblem.first().waitFor();
      const line = await serverProblem.first().getAttribute('data-line');
      assert.equal(
        line,
        '12',
        `the error points at ports[0].port: ${await serverProblem.first().innerText()}`,
      );
      assert.match(await page.getByTestId('editor-outcome').innerText(), /nothing was applied/);
      assert.equal((await kubectl.run(['get', 'configmap', 'ok-one'])).code, 1, 'nothing applied');
      await shot('editor-server-error');
      await page.getByTestId('editor-close').click();
    });

    it('lists events live, filtered by involved object, and in the detail panel', async () => {
      await page.getByTestId('nav-events').click();
      await page.getByTestId('events-filter').fill('deployment/web');
      const rows = page.getByTestId('table-events').getByTestId('row');
      await eventually('ScalingReplicaSet events of deployment/web', async () => {
        const t = await rows.allInnerTexts();
        return (
          t.length > 0 &&
          t.every((r) => /deployment\/web/.test(r)) &&
          t.some((r) => /ScalingReplicaSet/.test(r))
        );
      });
      await page.getByTestId('nav-pods').click();
      await page.getByTestId('table-pods').locator('[data-testid="row"][data-name^="web-"]').first().click();
      const events = page.getByTestId('object-detail').getByTestId('object-events');
      await eventually(
        "the pod's Scheduled event",
        async () => (await events.locator('[data-reason="Scheduled"]').count()) > 0,
      );
    });

    it('explains why a pod is Pending, node by node', async () => {
      await kubectl.ok([
        'run',
        'huge',
        '--image=registry.berth.test/x:1',
        '--overrides',
        JSON.stringify({
          apiVersion: 'v1',
          spec: {
            containers: [
              { name: 'huge', image: 'registry.berth.test/x:1', resources: { requests: { cpu: '500' } } },
            ],
          },
        }),
      ]);
      await page.getByTestId('nav-pods').click();
      await row('pods', 'huge').click();
      const why = page.getByTestId('why-pending');
      await why.waitFor();
      const verdictRows = why.getByTestId('verdict-row');
      await eventually(
        'a NodeResourcesFit row per node',
        async () => {
          if ((await verdictRows.count()) < 2) {
            await why.getByTestId('why-pending-refresh').click();
            return false;
          }
          return true;
        },
        30_000,
        1000,
      );
      const nodes = await verdictRows.evaluateAll((rs) =>
        rs.map((r) => `${r.getAttribute('data-node')}:${r.getAttribute('data-plugin')}`),
      );
      assert.deepEqual(nodes.sort(), ['berth-worker-1:NodeResourcesFit', 'berth-worker-2:NodeResourcesFit']);
      const text = await why.innerText();
      assert.match(text, /0\/2 nodes are available: 2 Insufficient cpu/);
      assert.match(text, /cpu: requested 500, used \S+, allocatable \d+/);
      await shot('why-pending');
      await page.getByTestId('detail-close').click();
      await kubectl.ok(['delete', 'pod', 'huge', '--wait=false']);
    });

    it('scales, restarts and (after confirmation) deletes a Deployment', async () => {
      await page.getByTestId('nav-deployments').click();
      await row('deployments', 'web').click();
      await page.getByTestId('scale-replicas').fill('1');
      await page.getByTestId('action-scale').click();
      await eventually('scaled', async () => (await replicas()) === '1');
      await page.getByTestId('action-restart').click();
      await eventually('restartedAt stamped', async () =>
        /^\d{4}-\d\d-\d\dT/.test(
          await kubectl.ok([
            'get',
            'deploy',
            'web',
            '-o',
            'jsonpath={.spec.template.metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt}',
          ]),
        ),
      );
      await page.getByTestId('action-delete').click();
      await page.getByTestId('confirm-delete').waitFor();
      await page.getByTestId('confirm-delete-no').click();
      assert.equal(await page.getByTestId('confirm-delete').count(), 0);
      assert.equal((await kubectl.run(['get', 'deploy', 'web'])).code, 0, 'cancel keeps it');
      await page.getByTestId('action-delete').click();
      await page.getByTestId('confirm-delete-yes').click();
      await eventually('deleted', async () => (await kubectl.run(['get', 'deploy', 'web'])).code === 1);
      await eventually('gone from the list', async () => (await row('deployments', 'web').count()) === 0);
      assert.deepEqual(pageProblems, [], 'no console errors (CSP violations are console errors)');
    });
  },
);
