/**
 * Starts `berth up` as a child process on a temporary data dir for an e2e test and tears it down
 * (SIGTERM, then the data dir is removed). Only loopback is used.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import https from 'node:https';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface BerthProcess {
  dataDir: string;
  home: string;
  kubeconfig: string;
  url: string;
  child: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Remove the temporary directories (after stop). */
  cleanup(): void;
}

export interface StartOptions {
  dataDir?: string;
  args?: string[];
  timeoutMs?: number;
}

export async function startBerth(opts: StartOptions = {}): Promise<BerthProcess> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'berth-e2e-'));
  const home = mkdtempSync(join(tmpdir(), 'berth-home-'));
  const child = spawn(
    process.execPath,
    [
      join(root, 'bin', 'berth.mjs'),
      'up',
      '--nodes',
      '0',
      '--data-dir',
      dataDir,
      '--api-port',
      '0',
      ...(opts.args ?? []),
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: home } },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(
      () => reject(new Error(`berth up did not become ready in time:\n${out}`)),
      opts.timeoutMs ?? 60_000,
    );
    const check = (): void => {
      const m = /API server: (https:\/\/\S+)/.exec(out);
      if (m && /\bready\b/i.test(out.slice(m.index))) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    };
    child.stdout?.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`berth up exited with ${code}:\n${out}`));
    });
  });
  const kubeconfig = join(dataDir, 'kubeconfig');
  return {
    dataDir,
    home,
    kubeconfig,
    url,
    child,
    output: () => out,
    stop(signal: NodeJS.Signals = 'SIGTERM') {
      return new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill(signal);
      });
    },
    cleanup() {
      rmSync(home, { recursive: true, force: true });
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A raw HTTPS request with the admin credentials from the kubeconfig (for protocol-level checks). */
export function adminRequest(
  b: BerthProcess,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: import('node:http').IncomingHttpHeaders; body: string }> {
  const kc = readFileSync(b.kubeconfig, 'utf8');
  const grab = (k: string): Buffer => Buffer.from(new RegExp(`${k}: (\\S+)`).exec(kc)![1]!, 'base64');
  const u = new URL(path, b.url);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method,
        ca: grab('certificate-authority-data'),
        cert: grab('client-certificate-data'),
        key: grab('client-key-data'),
        headers: { ...(body ? { 'Content-Length': Buffer.byteLength(body) } : {}), ...headers },
      },
      (res) => {
        let data = '';
        res.on('data', (d: Buffer) => (data += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
