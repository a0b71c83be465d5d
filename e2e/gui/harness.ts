/**
 * GUI e2e helpers: `berth serve` as a child process, and Debian's Chromium through playwright-core.
 * In CI (CI=true) a missing chromium is a failure; elsewhere the tests skip with the reason printed.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const root = fileURLToPath(new URL('../..', import.meta.url));

export function chromiumPath(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Returns a skip reason when chromium is missing outside CI; throws in CI. */
export function requireChromium(): string | undefined {
  if (chromiumPath()) return undefined;
  const why = 'chromium not found on PATH (apt-get install -y chromium)';
  if (process.env['CI']) throw new Error(`${why} — CI must provide it`);
  return why;
}

export interface ServeProcess {
  url: string;
  base: string;
  token: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** `berth serve --data-dir <dataDir> [args]` with HOME=home and no KUBECONFIG; resolves with the printed URL. */
export async function startServe(
  dataDir: string,
  home: string,
  timeoutMs = 120_000,
  args: string[] = [],
): Promise<ServeProcess> {
  const child = spawn(
    process.execPath,
    [join(root, 'bin', 'berth.mjs'), 'serve', '--data-dir', dataDir, ...args],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, HOME: home, KUBECONFIG: '' },
    },
  );
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(
      () => reject(new Error(`berth serve printed no URL in time:\n${stdout}\n${stderr}`)),
      timeoutMs,
    );
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
      const nl = stdout.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(t);
        resolve(stdout.slice(0, nl).trim());
      }
    });
    child.on('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`berth serve exited with ${code}:\n${stdout}\n${stderr}`));
    });
  });
  const u = new URL(url);
  return {
    url,
    base: `${u.protocol}//${u.host}`,
    token: u.searchParams.get('token') ?? '',
    child,
    output: () => stdout + stderr,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Debian's chromium, headless, with a fresh profile and no background networking. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error('chromium not found');
  const profile = mkdtempSync(join(tmpdir(), 'berth-chromium-'));
  // Playwright passes the profile as --user-data-dir (it refuses the flag in args) and adds --headless.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1400, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Creates a cluster through the Clusters view's form; resolves when its row is listed. */
export async function createClusterInGui(
  page: Page,
  name: string,
  nodes: number,
  driver: 'docker' | 'simulated' = 'docker',
): Promise<void> {
  await page.getByTestId('nav-clusters').click();
  await page.getByTestId('create-name').fill(name);
  await page.getByTestId('create-nodes').fill(String(nodes));
  await page.getByTestId('create-driver').selectOption(driver);
  await page.getByTestId('create-submit').click();
  await page.locator(`[data-testid=cluster-row][data-name="${name}"]`).waitFor({ timeout: 30_000 });
}

/** Waits until the Clusters view shows the cluster running (hosted by this GUI's process). */
export async function waitClusterRunning(page: Page, name: string, timeoutMs = 600_000): Promise<void> {
  await page
    .locator(`[data-testid=cluster-row][data-name="${name}"][data-phase=running]`)
    .waitFor({ timeout: timeoutMs });
}

/** Opens the manifest editor and waits until Monaco is ready. */
export async function openEditor(page: Page): Promise<void> {
  await page.getByTestId('nav-editor').click();
  await page.getByTestId('yaml-editor').and(page.locator('[data-ready="true"]')).waitFor({ timeout: 30_000 });
}

/** Replaces the whole text of the open Monaco editor with a paste (a clipboard paste event). */
export async function pasteIntoEditor(page: Page, text: string): Promise<void> {
  await page.getByTestId('yaml-editor').locator('.monaco-editor').first().click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.evaluate((t) => {
    const data = new DataTransfer();
    data.setData('text/plain', t);
    const paste = new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true });
    document.activeElement?.dispatchEvent(paste);
  }, text);
}
