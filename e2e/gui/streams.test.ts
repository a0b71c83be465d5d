/**
 * Logs and exec terminals in the GUI against real Docker nodes: a 2-node cluster created from the
 * GUI (hosted by `berth serve`), the busybox test image loaded with `berth image load` (the hosted
 * cluster serves the control channel as `berth up` does), a 2-replica Deployment that prints
 * numbered lines. The pod's logs arrive live and search finds a line; the Deployment's logs merge
 * both pods with a `[pod/container]` prefix; an exec terminal runs `hostname` (the pod's name) and
 * follows a resize (`stty size`). Everything labelled with the cluster is removed afterwards.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import type { Page } from 'playwright-core';
import { DockerNodeDriver } from '../../core/nodes/docker/driver.ts';
import { BUSYBOX_IMAGE, ensureNodeImages } from '../../core/nodes/docker/images.ts';
import { dockerAvailable, uniqueClusterName } from '../harness/docker-cluster.ts';
import { kubectlRunner, requireKubectl, type KubectlRunner } from '../harness/kubectl.ts';
import {
  createClusterInGui,
  launchChromium,
  openEditor,
  pasteIntoEditor,
  requireChromium,
  startServe,
  waitClusterRunning,
  type Browser,
  type ServeProcess,
} from './harness.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const artifacts = join(root, 'test-artifacts', 'gui');
const skip = requireChromium() ?? requireKubectl('1.33') ?? (await dockerAvailable());
if (skip) console.log(`# skipping GUI logs/exec e2e: ${skip}`);
const name = uniqueClusterName('t-guis');

const DEPLOYMENT = (replicas: string): string => `apiVersion: apps/v1
kind: Deployment
metadata: { name: talker, namespace: default }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: talker } }
  template:
    metadata: { labels: { app: talker } }
    spec:
      containers:
        - name: talk
          image: ${BUSYBOX_IMAGE}
          command: ['sh', '-c', 'i=0; while true; do echo "line-$i from $(hostname)"; i=$((i+1)); sleep 0.5; done']
---
apiVersion: v1
kind: Service
metadata: { name: talker, namespace: default }
spec: { selector: { app: talker }, ports: [ { port: 80 } ] }
`;

/** Waits for `what`; on timeout the error carries the view's own status line (why nothing came). */
async function orExplain(page: Page, wait: Promise<unknown>, statusTestId: string): Promise<void> {
  try {
    await wait;
  } catch (e) {
    const status = await page
      .getByTestId(statusTestId)
      .textContent({ timeout: 1000 })
      .catch(() => '');
    throw new Error(`${(e as Error).message.split('\n')[0]}\n${statusTestId}: ${status}`, { cause: e });
  }
}

describe('GUI logs and exec (docker nodes)', { skip: skip ?? false, timeout: 900_000 }, () => {
  let home: string;
  let serve: ServeProcess;
  let browser: Browser;
  let page: Page;
  let kubectl: KubectlRunner;
  let pods: string[] = [];
  const docker = new Docker();

  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'berth-guis-home-'));
    mkdirSync(artifacts, { recursive: true });
    await ensureNodeImages(docker);
    const clustersDir = join(home, 'clusters');
    serve = await startServe(join(home, 'none'), home, 180_000, ['--clusters-dir', clustersDir]);
    browser = await launchChromium();
    page = await browser.context.newPage();
    await page.goto(serve.url);
    await createClusterInGui(page, name, 2);
    await waitClusterRunning(page, name);
    const dataDir = join(clustersDir, name);
    const load = spawnSync(
      process.execPath,
      [join(root, 'bin', 'berth.mjs'), 'image', 'load', BUSYBOX_IMAGE, '--data-dir', dataDir],
      { encoding: 'utf8', env: { ...process.env, HOME: home }, timeout: 180_000 },
    );
    assert.equal(load.status, 0, `berth image load: ${load.stdout}${load.stderr}`);
    kubectl = kubectlRunner('1.33', join(dataDir, 'kubeconfig'), home);
  });
  after(async () => {
    await page?.screenshot({ path: join(artifacts, 'streams-final.png') }).catch(() => {});
    await browser?.close();
    await serve?.stop();
    await new DockerNodeDriver({ cluster: name, docker }).destroy();
    rmSync(home, { recursive: true, force: true });
  });

  it('the editor flags a schema error, then applies a Deployment + Service whose pods turn Running live on the nodes', async () => {
    await openEditor(page);
    await pasteIntoEditor(page, DEPLOYMENT('"two"'));
    // `replicas: "two"` (line 5) is flagged from the cluster's OpenAPI before anything is sent.
    const bad = page.getByTestId('problem').and(page.locator('[data-line="5"]'));
    await bad.waitFor({ timeout: 30_000 });
    assert.match(await bad.innerText(), /integer/i);
    await pasteIntoEditor(page, DEPLOYMENT('2'));
    await page.getByTestId('problem').first().waitFor({ state: 'detached', timeout: 30_000 });
    await page.getByTestId('editor-apply').click();
    await page
      .getByTestId('editor-outcome')
      .filter({ hasText: 'applied 2 documents' })
      .waitFor({ timeout: 30_000 });
    await page.getByTestId('editor-close').click();
    await page.getByTestId('nav-pods').click();
    // Both pods turn Running in the open list (live from the watch, no reload).
    await page.waitForFunction(
      () => {
        const sel = '[data-testid="table-pods"] [data-testid="row"][data-name^="talker-"]';
        const rows = [...document.querySelectorAll<HTMLElement>(sel)];
        // innerText keeps the cells apart (textContent runs "1/1Running0" together).
        return rows.length === 2 && rows.every((e) => /\bRunning\b/.test(e.innerText));
      },
      undefined,
      { timeout: 180_000 },
    );
    await page.screenshot({ path: join(artifacts, 'editor-applied-docker.png') });
    const out = await kubectl.run([
      'get',
      'pods',
      '-l',
      'app=talker',
      '-o',
      'jsonpath={.items[*].metadata.name} {.items[*].status.phase}',
    ]);
    const words = out.stdout.trim().split(/\s+/);
    pods = words.slice(0, 2).sort();
    assert.deepEqual(words.slice(2), ['Running', 'Running'], out.stdout);
    assert.match(await kubectl.ok(['get', 'service', 'talker', '-o', 'name']), /service\/talker/);
  });

  it("a pod's logs arrive live and search finds a line", async () => {
    const pod = pods[0] ?? '';
    await page.getByTestId('nav-pods').click();
    await page.locator(`[data-testid=row][data-name="${pod}"]`).click();
    await page.getByTestId('action-logs').click();
    const lines = page.getByTestId('log-line');
    await orExplain(
      page,
      lines.filter({ hasText: 'line-2 ' }).first().waitFor({ timeout: 60_000 }),
      'logs-status',
    );
    const before = await lines.count();
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-testid=log-line]').length > n,
      before,
      { timeout: 30_000 },
    );
    await page.getByTestId('logs-search').fill('line-1 ');
    assert.equal((await page.getByTestId('logs-match-count').textContent())?.trim(), '1 match');
    await page.getByTestId('logs-timestamps').check();
    await lines.first().waitFor();
    assert.match((await lines.first().textContent()) ?? '', /^\d{4}-\d\d-\d\dT/);
    await page.screenshot({ path: join(artifacts, 'logs-pod.png') });
  });

  it("the Deployment's logs merge both pods with a prefix", async () => {
    await page.getByTestId('nav-deployments').click();
    await page.locator('[data-testid=row][data-name=talker]').click();
    await page.getByTestId('action-logs').click();
    for (const pod of pods)
      await orExplain(
        page,
        page
          .getByTestId('log-line')
          .filter({ hasText: `[${pod}/talk] line-` })
          .first()
          .waitFor({ timeout: 60_000 }),
        'logs-status',
      );
  });

  it('an exec terminal runs hostname in the pod and follows a resize', async () => {
    const pod = pods[1] ?? '';
    await page.getByTestId('nav-pods').click();
    await page.locator(`[data-testid=row][data-name="${pod}"]`).click();
    await page.getByTestId('action-exec').click();
    await orExplain(
      page,
      page.locator('[data-testid=terminal][data-state=open]').waitFor({ timeout: 60_000 }),
      'terminal-exit',
    );
    const host = page.getByTestId('terminal-host');
    await host.click();
    await page.keyboard.type('hostname\n');
    await host.filter({ hasText: pod }).waitFor({ timeout: 30_000 });
    const sttySize = async (marker: string): Promise<string> => {
      await page.keyboard.type(`echo "SIZE-$(stty size)-${marker}"\n`);
      const re = new RegExp(`SIZE-(\\d+ \\d+)-${marker}`);
      await host.filter({ hasText: re }).waitFor({ timeout: 30_000 });
      return re.exec((await host.textContent()) ?? '')?.[1] ?? '';
    };
    const before = await sttySize('A');
    await page.setViewportSize({ width: 900, height: 560 });
    await page.waitForTimeout(700);
    const after = await sttySize('B');
    assert.notEqual(after, before, `the TTY follows the resize (${before} → ${after})`);
    await page.screenshot({ path: join(artifacts, 'terminal-exec.png') });
  });
});
