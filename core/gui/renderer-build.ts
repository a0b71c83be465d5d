/**
 * Builds the renderer (Vite) when its build is missing or stale, so `berth serve` and the desktop app
 * need no separate build step. Staleness is a content hash over the renderer's sources, the contract
 * it imports, and the versions of the build tools; the hash is stored beside the build. A build goes
 * to a temporary folder first and is swapped in whole.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const rendererDir = join(repoRoot, 'renderer');
export const rendererOutDir = join(rendererDir, 'dist');
const HASH_FILE = '.build-hash';

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    // Skip build output (dist, dist.tmp-*, dist.old-*), dependencies and dotfiles.
    if (/^dist(\.|$)/.test(name) || name === 'node_modules' || name.startsWith('.')) continue;
    if (statSync(p).isDirectory()) walk(p, out);
    else if (!name.endsWith('.test.ts') && name !== 'README.md') out.push(p);
  }
  return out;
}

function versionOf(pkg: string): string {
  try {
    const j = JSON.parse(readFileSync(join(repoRoot, 'node_modules', pkg, 'package.json'), 'utf8')) as {
      version?: string;
    };
    return j.version ?? '?';
  } catch {
    return 'missing';
  }
}

export function rendererSourceHash(): string {
  const h = createHash('sha256');
  const files = [...walk(rendererDir), join(repoRoot, 'core', 'gui', 'contract.ts')];
  for (const f of files) {
    h.update(relative(repoRoot, f)).update('\0').update(readFileSync(f)).update('\0');
  }
  for (const pkg of ['vite', 'vue', 'pinia', '@vitejs/plugin-vue', 'monaco-editor', 'monaco-yaml', 'yaml'])
    h.update(`${pkg}@${versionOf(pkg)}\0`);
  return h.digest('hex');
}

export function rendererBuildIsFresh(hash = rendererSourceHash()): boolean {
  try {
    return (
      readFileSync(join(rendererOutDir, HASH_FILE), 'utf8').trim() === hash &&
      existsSync(join(rendererOutDir, 'index.html'))
    );
  } catch {
    return false;
  }
}

/** Ensures renderer/dist is a build of the current sources; returns its folder and whether it built. */
export async function ensureRendererBuilt(
  log: (line: string) => void = () => {},
): Promise<{ dir: string; built: boolean }> {
  const hash = rendererSourceHash();
  if (rendererBuildIsFresh(hash)) return { dir: rendererOutDir, built: false };
  log('building the GUI (renderer sources changed)…');
  const tmp = `${rendererOutDir}.tmp-${process.pid}-${Date.now()}`;
  const { build } = await import('vite');
  try {
    await build({
      configFile: join(rendererDir, 'vite.config.ts'),
      root: rendererDir,
      logLevel: 'warn',
      build: { outDir: tmp, emptyOutDir: true },
    });
    writeFileSync(join(tmp, HASH_FILE), `${hash}\n`);
    const old = `${rendererOutDir}.old-${process.pid}-${Date.now()}`;
    if (existsSync(rendererOutDir)) renameSync(rendererOutDir, old);
    renameSync(tmp, rendererOutDir);
    rmSync(old, { recursive: true, force: true });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { dir: rendererOutDir, built: true };
}
