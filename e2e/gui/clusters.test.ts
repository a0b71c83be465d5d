/**
 * Issue "The desktop app": create a 2-node cluster from the GUI (driver docker: real node containers,
 * hosted in-process by `berth serve`) and watch its progress until both nodes are Ready; the Overview
 * shows both nodes with their capacity; the local shell (node-pty + xterm.js) runs `kubectl get nodes`
 * against this cluster; the kubeconfig merges into ~/.kube/config (backup first) and kubectl uses it;
 * a node stops and starts from the GUI; deleting the cluster from the GUI removes its Docker
 * containers, volumes and network. Whatever happens, everything labelled with the cluster is removed.
 * Screenshots go to test-artifacts/gui/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import type { Page } from 'playwright-core';
import { DockerNodeDriver, CLUSTER_LABEL } from '../../core/nodes/docker/driver.ts';
import { dockerAvailable, uniqueClusterName } from '../harness/docker-cluster.ts';
import { requireKubectl } from '../harness/kubectl.ts';
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
const skip = requireChromium() ?? requireKubectl('1.33') ?? (await dockerAvailable());
if (skip) console.log(`# skipping GUI cluster e2e: ${skip}`);

const name = uniqueClusterName('t-gui');

async function labelled(docker: Docker): Promise<number> {
  const filters = { label: [`${CLUSTER_LABEL}=${name}`] };
  const [c, n, v] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listNetworks({ filters }),
    docker.listVolumes({ filters }),
  ]);
  return c.length + n.length + (v.Volumes?.length ?? 0);
}

describe('GUI cluster manager (docker nodes)', { skip: skip ?? false, timeout: 900_000 }, () => {
  let home: string;
  let clustersDir: string;
  let serve: ServeProcess;
  let browser: Browser;
  let page: Page;
  const docker = new Docker();

  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'berth-gui-home-'));
    clustersDir = join(home, 'clusters');
    mkdirSync(artifacts, { recursive: true });
    serve = await startServe(join(home, 'none'), home, 180_000, ['--clusters-dir', clustersDir]);
    browser = await launchChromium();
    page = await browser.context.newPage();
    await page.goto(serve.url);
  });
  after(async () => {
    await page?.screenshot({ path: join(artifacts, 'clusters-final.png') }).catch(() => {});
    await browser?.close();
    await serve?.stop();
    await new DockerNodeDriver({ cluster: name, docker }).destroy();
    rmSync(home, { recursive: true, force: true });
  });

  const row = (): ReturnType<Page['locator']> =>
    page.locator(`[data-testid=cluster-row][data-name="${name}"]`);

  it('creates a 2-node Docker cluster and shows its progress until both nodes are Ready', async () => {
    await createClusterInGui(page, name, 2, 'docker');
    // Progress lines arrive while it starts (control plane, image, nodes Ready n/N).
    await page.getByTestId('cluster-progress').filter({ hasText: 'starting the control plane' }).waitFor();
    await waitClusterRunning(page, name);
    const progress = (await page.getByTestId('cluster-progress').textContent()) ?? '';
    assert.match(progress, /nodes Ready: 2\/2/);
    assert.equal((await row().getByTestId('cluster-nodes-ready').textContent())?.trim(), '2/2');
    await page.locator('[data-testid=hosted-node][data-state=running]').nth(1).waitFor({ timeout: 30_000 });
    assert.equal(await page.getByTestId('hosted-node').count(), 2);
    await page.screenshot({ path: join(artifacts, 'clusters-created.png') });
    const containers = await docker.listContainers({ filters: { label: [`${CLUSTER_LABEL}=${name}`] } });
    assert.equal(containers.length, 2, 'two node containers run');
  });

  it('overview shows both nodes Ready with their capacity', async () => {
    await page.getByTestId('nav-overview').click();
    const ready = page.locator('[data-testid=overview-node][data-status=Ready]');
    await ready.nth(1).waitFor({ timeout: 60_000 });
    assert.equal(await page.getByTestId('overview-node').count(), 2);
    const text = (await page.getByTestId('overview-nodes').textContent()) ?? '';
    assert.match(text, new RegExp(`${name}-worker-1`));
    assert.match(text, / \/ 110/, 'pods allocatable shown');
    await page.screenshot({ path: join(artifacts, 'overview.png') });
  });

  it('the local shell runs kubectl get nodes against this cluster', async () => {
    await page.getByTestId('nav-shell').click();
    await page.locator('[data-testid=terminal][data-state=open]').waitFor({ timeout: 30_000 });
    await page.getByTestId('terminal-host').click();
    await page.keyboard.type('kubectl get nodes -o name; echo DONE-$((6*7))\n');
    const host = page.getByTestId('terminal-host');
    await host.filter({ hasText: 'DONE-42' }).waitFor({ timeout: 60_000 });
    const text = (await host.textContent()) ?? '';
    assert.match(text, new RegExp(`node/${name}-worker-1`));
    assert.match(text, new RegExp(`node/${name}-worker-2`));
    await page.screenshot({ path: join(artifacts, 'terminal-shell.png') });
  });

  it('merges the kubeconfig into ~/.kube/config on request, and kubectl uses it', async () => {
    await page.getByTestId('nav-clusters').click();
    await row().click();
    await page.getByTestId('kubeconfig-merge').click();
    await page.getByTestId('kubeconfig-merge-yes').click();
    await page.getByTestId('kubeconfig-message').filter({ hasText: 'merged as context' }).waitFor();
    const file = join(home, '.kube', 'config');
    assert.ok(existsSync(file));
    assert.match(readFileSync(file, 'utf8'), new RegExp(`name: berth-${name}`));
    const out = execFileSync('kubectl', ['--context', `berth-${name}`, 'get', 'nodes', '-o', 'name'], {
      encoding: 'utf8',
      env: { ...process.env, HOME: home, KUBECONFIG: file },
    });
    assert.match(out, new RegExp(`node/${name}-worker-2`));
    // A second merge backs the first file up before writing.
    await page.getByTestId('kubeconfig-merge').click();
    await page.getByTestId('kubeconfig-merge-yes').click();
    await page.getByTestId('kubeconfig-message').filter({ hasText: 'backup' }).waitFor();
    assert.ok(readdirSync(join(home, '.kube')).some((f) => f.startsWith('config.berth-backup-')));
  });

  it('saves the kubeconfig as a download, and kubectl uses the file', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('kubeconfig-save').click(),
    ]);
    assert.equal(download.suggestedFilename(), `${name}.kubeconfig`);
    const file = join(home, 'saved.kubeconfig');
    await download.saveAs(file);
    const out = execFileSync('kubectl', ['get', 'nodes', '-o', 'name'], {
      encoding: 'utf8',
      env: { ...process.env, HOME: home, KUBECONFIG: file },
    });
    assert.match(out, new RegExp(`node/${name}-worker-1`));
  });

  it('adds a node and removes it again', async () => {
    await page.getByTestId('node-add').click();
    const third = page.locator(`[data-testid=hosted-node][data-name="${name}-worker-3"][data-state=running]`);
    await third.waitFor({ timeout: 180_000 });
    await third.getByRole('button', { name: 'Remove' }).click();
    await third.waitFor({ state: 'detached', timeout: 120_000 });
    assert.equal(await page.getByTestId('hosted-node').count(), 2);
  });

  it('stops and starts a node from the GUI', async () => {
    const node = page.locator(`[data-testid=hosted-node][data-name="${name}-worker-2"]`);
    await node.getByRole('button', { name: 'Stop' }).click();
    await page
      .locator(`[data-testid=hosted-node][data-name="${name}-worker-2"][data-state=stopped]`)
      .waitFor({ timeout: 120_000 });
    await node.getByRole('button', { name: 'Start' }).click();
    await page
      .locator(`[data-testid=hosted-node][data-name="${name}-worker-2"][data-state=running]`)
      .waitFor({ timeout: 120_000 });
  });

  it('deletes the cluster from the GUI, with its Docker containers, volumes and network', async () => {
    await row().getByTestId('cluster-delete').click();
    await page.getByTestId('confirm-cluster-delete-yes').click();
    await row().waitFor({ state: 'detached', timeout: 180_000 });
    assert.equal(await labelled(docker), 0, 'nothing labelled with the cluster is left');
    assert.ok(!existsSync(join(clustersDir, name)), 'the data dir is gone');
  });
});
