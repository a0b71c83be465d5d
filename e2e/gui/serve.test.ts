/**
 * Issue "The desktop app", first slice: the GUI in a browser through `berth serve`, against
 * `berth up --driver simulated --nodes 2` (simulated nodes: the GUI and control plane are under test).
 * Debian's chromium via playwright-core. Checks: no token → refused (HTTP 401, WebSocket 401, foreign
 * Host/Origin 403); with the printed URL the app loads under its CSP, lists both nodes live, and pods
 * of a Deployment created with kubectl appear in the open page without a reload; the pod panel shows
 * the pod's conditions. A screenshot goes to test-artifacts/gui/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import type { Page } from 'playwright-core';
import { startBerth, type BerthProcess } from '../harness/berth.ts';
import { kubectlRunner, requireKubectl, type KubectlRunner } from '../harness/kubectl.ts';
import { eventually } from '../harness/wait.ts';
import { launchChromium, requireChromium, startServe, type Browser, type ServeProcess } from './harness.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const artifacts = join(root, 'test-artifacts', 'gui');
const skip = requireChromium() ?? requireKubectl('1.33');
if (skip) console.log(`# skipping GUI e2e: ${skip}`);

function get(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
  });
}

/** Opens a WebSocket and reports the HTTP status of a refused upgrade, or 101 when it opened. */
function upgrade(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('error', (e) => reject(e));
  });
}

describe('berth serve (GUI in a browser)', { skip: skip ?? false, timeout: 180_000 }, () => {
  let berth: BerthProcess;
  let serve: ServeProcess;
  let browser: Browser;
  let kubectl: KubectlRunner;
  let page: Page;
  const pageProblems: string[] = [];

  before(async () => {
    berth = await startBerth({ args: ['--driver', 'simulated', '--nodes', '2'] });
    kubectl = kubectlRunner('1.33', berth.kubeconfig, berth.home);
    serve = await startServe(berth.dataDir, berth.home);
  });
  after(async () => {
    await browser?.close();
    await serve?.stop();
    await berth?.stop();
    berth?.cleanup();
  });

  it('prints one loopback URL with a token', () => {
    assert.match(serve.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
  });

  it('refuses requests and sockets without the token', async () => {
    const port = new URL(serve.base).port;
    assert.equal(await get(`${serve.base}/`), 401);
    assert.equal(await get(`${serve.base}/index.html`), 401);
    assert.equal(await get(`${serve.base}/?token=wrong`), 401);
    assert.equal(await get(`${serve.base}/`, { Cookie: `berth_${port}=wrong` }), 401);
    // DNS rebinding: a foreign Host is refused even with the token.
    assert.equal(await get(serve.url, { Host: `berth.example:${port}` }), 403);
    const wsUrl = `ws://127.0.0.1:${port}/ws`;
    const origin = serve.base;
    assert.equal(await upgrade(wsUrl, { Origin: origin }), 401);
    assert.equal(await upgrade(wsUrl, { Origin: origin, Cookie: `berth_${port}=wrong` }), 401);
    assert.equal(
      await upgrade(wsUrl, { Origin: 'http://attacker.example', Cookie: `berth_${port}=${serve.token}` }),
      403,
      'a page on another origin must not reach the socket',
    );
    assert.equal(await upgrade(wsUrl, { Origin: origin, Cookie: `berth_${port}=${serve.token}` }), 101);
  });

  it('opens the app from the printed URL and lists both nodes', async () => {
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') pageProblems.push(m.text());
    });
    page.on('pageerror', (e) => pageProblems.push(e.message));
    const res = await page.goto(serve.url);
    assert.equal(res?.status(), 200);
    assert.equal(new URL(page.url()).search, '', 'the token leaves the address bar');
    assert.match(res?.headers()['content-security-policy'] ?? '', /default-src 'none'/);
    await page.getByTestId('connection').filter({ hasText: 'open' }).waitFor();
    await page.getByTestId('nav-nodes').click();
    const nodes = page.getByTestId('table-nodes').getByTestId('row');
    await eventually('both nodes listed', async () => (await nodes.count()) === 2, 30_000);
    const names = await nodes.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-name')));
    assert.deepEqual(names.sort(), ['berth-worker-1', 'berth-worker-2']);
    const text = await page.getByTestId('table-nodes').innerText();
    assert.match(text, /Ready/);
    assert.match(text, /simulated/, 'simulated nodes are labelled simulated');
  });

  it('shows the pods of a new Deployment live, with conditions', async () => {
    await page.getByTestId('nav-pods').click();
    await page.getByTestId('table-pods').and(page.locator('[data-synced="true"]')).waitFor();
    // Marks this document: a reload would lose it, so seeing it later proves the list updated live.
    await page.evaluate(() => document.body.setAttribute('data-marker', 'live'));
    await kubectl.ok(['create', 'deployment', 'web', '--image=registry.berth.test/web:1', '--replicas=2']);
    const pods = page.getByTestId('table-pods').locator('[data-testid="row"][data-name^="web-"]');
    await eventually('2 web pods in the list', async () => (await pods.count()) === 2, 30_000);
    await eventually(
      'web pods Running in the list',
      async () => {
        const rows = await pods.allInnerTexts();
        return rows.length === 2 && rows.every((r) => /\bRunning\b/.test(r));
      },
      30_000,
    );
    assert.equal(await page.evaluate(() => document.body.getAttribute('data-marker')), 'live');

    await pods.first().click();
    const detail = page.getByTestId('pod-detail');
    await detail.waitFor();
    const conditions = detail.getByTestId('pod-conditions');
    await eventually('PodScheduled and Ready conditions shown', async () => {
      const t = await conditions.innerText();
      return /PodScheduled\s+True/.test(t) && /Ready\s+True/.test(t);
    });

    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, 'serve-pods.png'), fullPage: true });

    // Deleting the Deployment removes its pods from the open list, too.
    await kubectl.ok(['delete', 'deployment', 'web', '--wait=false']);
    await eventually('web pods gone from the list', async () => (await pods.count()) === 0, 30_000);
    assert.deepEqual(pageProblems, [], 'no console errors (CSP violations are console errors)');
  });
});
