/**
 * Finding and running the real kubectl binaries (kubectl.1.27 … kubectl.1.33 beside the dispatcher).
 * In CI a missing binary is a failure; elsewhere tests skip with the reason printed.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const E2E_VERSIONS = ['1.27', '1.33'] as const;
export type KubectlVersion = (typeof E2E_VERSIONS)[number] | '1.28' | '1.29' | '1.30' | '1.31' | '1.32';

export function kubectlDir(): string | undefined {
  try {
    const which = execFileSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).trim();
    return which ? dirname(realpathSync(which)) : undefined;
  } catch {
    return undefined;
  }
}

export function kubectlPath(version: KubectlVersion): string | undefined {
  const dir = kubectlDir();
  const p = dir ? join(dir, `kubectl.${version}`) : undefined;
  return p && existsSync(p) ? p : undefined;
}

/** Returns a skip reason (string) when unavailable outside CI; throws in CI. */
export function requireKubectl(version: KubectlVersion): string | undefined {
  if (kubectlPath(version)) return undefined;
  const why = `kubectl.${version} not found beside \`kubectl\` on PATH`;
  if (process.env['CI']) throw new Error(`${why} — CI must provide it`);
  return why;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface KubectlRunner {
  version: KubectlVersion;
  run(
    args: string[],
    opts?: { input?: string; env?: Record<string, string>; timeoutMs?: number },
  ): Promise<RunResult>;
  /** Run and require exit 0; returns stdout. */
  ok(
    args: string[],
    opts?: { input?: string; env?: Record<string, string>; timeoutMs?: number },
  ): Promise<string>;
  /** Start a long-running command (e.g. get -w); returns the child and collected output. */
  spawn(args: string[]): { child: import('node:child_process').ChildProcess; output: () => string };
}

export function kubectlRunner(version: KubectlVersion, kubeconfig: string, home: string): KubectlRunner {
  const bin = kubectlPath(version);
  if (!bin) throw new Error(`kubectl.${version} not available`);
  const baseEnv = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: home,
    KUBECONFIG: kubeconfig,
    KUBECACHEDIR: join(home, 'kube-cache'),
    LANG: 'C.UTF-8',
  };
  const run: KubectlRunner['run'] = (args, opts = {}) =>
    new Promise((resolve, reject) => {
      const child = spawn(bin, args, { env: { ...baseEnv, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const t = setTimeout(() => {
        child.kill('SIGKILL');
        reject(
          new Error(`kubectl.${version} ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`),
        );
      }, opts.timeoutMs ?? 60_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(t);
        resolve({ code: code ?? -1, stdout, stderr });
      });
      // A command that exits without reading its stdin (most do) makes this write fail with EPIPE:
      // that is not the command's failure — its exit code and output say how it went.
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.input ?? '');
    });
  return {
    version,
    run,
    async ok(args, opts) {
      const r = await run(args, opts);
      if (r.code !== 0)
        throw new Error(
          `kubectl.${version} ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`,
        );
      return r.stdout;
    },
    spawn(args) {
      const child = spawn(bin, args, { env: baseEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
      return { child, output: () => out };
    },
  };
}
