/** Starts `berth up --nodes 0` on a temporary data dir for a benchmark and stops it by pid. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

export interface BenchBerth {
  dataDir: string;
  kubeconfig: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `berth up` (default `--nodes 0`; `args` are appended, later flags win) until it prints "ready". */
export async function startBerth(args: string[] = [], timeoutMs = 60_000): Promise<BenchBerth> {
  const dataDir = mkdtempSync(join(tmpdir(), 'berth-bench-'));
  const child = spawn(
    process.execPath,
    [join(root, 'bin/berth.mjs'), 'up', '--nodes', '0', '--data-dir', dataDir, '--api-port', '0', ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`berth did not start:\n${out}`)), timeoutMs);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (/is ready/.test(out)) {
        clearTimeout(t);
        resolve();
      }
    });
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (c) => reject(new Error(`berth exited ${c}:\n${out}`)));
  });
  return {
    dataDir,
    kubeconfig: join(dataDir, 'kubeconfig'),
    child,
    async stop() {
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
