/**
 * `npm start` (`berth start`) where no display exists: it starts a new cluster with 2 Docker nodes in
 * its own process, prints the progress and the loopback URL of the same GUI, and the GUI shows the
 * cluster running with both nodes Ready. SIGTERM stops the GUI and the cluster (its node containers
 * stop); everything labelled with the cluster is removed afterwards.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { DockerNodeDriver, CLUSTER_LABEL } from '../../core/nodes/docker/driver.ts';
import { dockerAvailable, uniqueClusterName } from '../harness/docker-cluster.ts';
import { waitFor } from '../../core/testing/wait.ts';
import { launchChromium, requireChromium, type Browser } from './harness.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const skip = requireChromium() ?? (await dockerAvailable());
if (skip) console.log(`# skipping npm start e2e: ${skip}`);
const name = uniqueClusterName('t-start');

describe('npm start without a display', { skip: skip ?? false, timeout: 600_000 }, () => {
  let home: string;
  let child: ChildProcess;
  let out = '';
  let browser: Browser;
  const docker = new Docker();

  before(() => {
    home = mkdtempSync(join(tmpdir(), 'berth-start-'));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: home,
      XDG_DATA_HOME: join(home, 'data'),
      KUBECONFIG: '',
    };
    delete env['DISPLAY'];
    delete env['WAYLAND_DISPLAY'];
    child = spawn(process.execPath, [join(root, 'bin', 'berth.mjs'), 'start', '--name', name], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  });
  after(async () => {
    await browser?.close();
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    await new DockerNodeDriver({ cluster: name, docker }).destroy();
    rmSync(home, { recursive: true, force: true });
  });

  it('prints why no window opens, the loopback URL, and the cluster progress until Ready', async () => {
    const url = await waitFor('URL', () => /http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/.exec(out)?.[0], 180_000);
    assert.match(out, /(no display|Electron binary is not installed): the Berth GUI is served at/);
    await waitFor('nodes Ready', () => out.includes('nodes Ready: 2/2'), 400_000, 200);
    browser = await launchChromium();
    const page = await browser.context.newPage();
    await page.goto(url);
    await page.getByTestId('nav-clusters').click();
    await page
      .locator(`[data-testid=cluster-row][data-name="${name}"][data-phase=running]`)
      .waitFor({ timeout: 60_000 });
    await page.getByTestId('nav-overview').click();
    await page.locator('[data-testid=overview-node][data-status=Ready]').nth(1).waitFor({ timeout: 60_000 });
  });

  it('SIGTERM stops the GUI and the cluster', async () => {
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    assert.equal(code, 0, out);
    const running = await docker.listContainers({ filters: { label: [`${CLUSTER_LABEL}=${name}`] } });
    assert.equal(running.length, 0, 'node containers stopped with the cluster');
  });
});
