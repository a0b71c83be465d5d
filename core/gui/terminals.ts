/**
 * Terminals of one GUI session: a local shell in a pseudo-terminal (node-pty) with KUBECONFIG set to
 * the chosen cluster, or a TTY in a container through the API server's pods/exec (the client
 * library's WebSocket exec with a resize channel). Output goes to `emit` as TerminalMessages;
 * closing the session ends every terminal it opened.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import type { KubeConfig } from '@kubernetes/client-node';
import type { TerminalMessage } from './contract.ts';
import { errorText } from './kube-client.ts';

export interface ShellTarget {
  kind: 'shell';
  /** The kubeconfig file KUBECONFIG points to; `yaml` when there is no file (a temp file is written). */
  kubeconfigFile?: string;
  kubeconfigYaml: string;
}
export interface ExecTarget {
  kind: 'exec';
  kubeConfig: KubeConfig;
  namespace: string;
  pod: string;
  container: string;
}

interface Terminal {
  write(data: string): void;
  resize(cols: number, rows: number): void;
  close(): void;
}

const MAX_TERMINALS = 16;

/** A writable that the exec client treats as a resizable TTY (columns/rows + 'resize'). */
class TtyOutput extends Writable {
  columns: number;
  rows: number;
  constructor(
    cols: number,
    rows: number,
    private onData: (text: string) => void,
  ) {
    super({ decodeStrings: false });
    this.columns = cols;
    this.rows = rows;
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.onData(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
    cb();
  }
  resize(cols: number, rows: number): void {
    this.columns = cols;
    this.rows = rows;
    this.emit('resize');
  }
}

function dims(n: number, max: number): number {
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`terminal size out of range: ${n}`);
  return n;
}

export class TerminalSet {
  private terms = new Map<string, Terminal>();

  constructor(private emit: (m: TerminalMessage) => void) {}

  private output(id: string): (data: string) => void {
    return (data) => {
      if (this.terms.has(id)) this.emit({ kind: 'event', channel: 'terminal', terminalId: id, data });
    };
  }
  private exited(id: string, code: number | null, message?: string): void {
    if (!this.terms.delete(id)) return;
    this.emit({
      kind: 'event',
      channel: 'terminal',
      terminalId: id,
      exit: { code, ...(message ? { message } : {}) },
    });
  }

  async open(id: string, cols: number, rows: number, target: ShellTarget | ExecTarget): Promise<string> {
    if (this.terms.has(id)) throw new Error(`terminal "${id}" is already open`);
    if (this.terms.size >= MAX_TERMINALS) throw new Error(`at most ${MAX_TERMINALS} terminals per window`);
    dims(cols, 1000);
    dims(rows, 1000);
    return target.kind === 'shell'
      ? this.openShell(id, cols, rows, target)
      : this.openExec(id, cols, rows, target);
  }

  private async openShell(id: string, cols: number, rows: number, t: ShellTarget): Promise<string> {
    const pty = await import('node-pty');
    let tmp: string | undefined;
    let file = t.kubeconfigFile;
    if (!file) {
      tmp = mkdtempSync(join(tmpdir(), 'berth-term-'));
      file = join(tmp, 'kubeconfig');
      writeFileSync(file, t.kubeconfigYaml, { mode: 0o600 });
    }
    const shell = process.env['SHELL'] || (process.platform === 'win32' ? 'powershell.exe' : '/bin/sh');
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    env['KUBECONFIG'] = file;
    env['TERM'] = 'xterm-256color';
    const p = pty.spawn(shell, [], {
      name: 'xterm-256color',
      cols,
      rows,
      cwd: process.env['HOME'] ?? process.cwd(),
      env,
    });
    const cleanup = (): void => {
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    };
    this.terms.set(id, {
      write: (d) => p.write(d),
      resize: (c, r) => p.resize(c, r),
      close: () => {
        try {
          p.kill();
        } catch {
          // already gone
        }
      },
    });
    p.onData(this.output(id));
    p.onExit(({ exitCode }) => {
      cleanup();
      this.exited(id, exitCode);
    });
    return `shell (KUBECONFIG=${file})`;
  }

  private async openExec(id: string, cols: number, rows: number, t: ExecTarget): Promise<string> {
    const { Exec } = await import('@kubernetes/client-node');
    const stdin = new PassThrough();
    const out = new TtyOutput(cols, rows, this.output(id));
    let status: string | undefined;
    // Placeholder entry so early output is not dropped while the socket opens.
    this.terms.set(id, { write: () => {}, resize: () => {}, close: () => {} });
    let ws: Awaited<ReturnType<InstanceType<typeof Exec>['exec']>>;
    try {
      ws = await new Exec(t.kubeConfig).exec(
        t.namespace,
        t.pod,
        t.container,
        ['sh', '-c', 'command -v bash >/dev/null && exec bash || exec sh'],
        out,
        null,
        stdin,
        true,
        (s) => {
          status = s.status === 'Success' ? undefined : (s.message ?? s.reason ?? 'failed');
        },
      );
    } catch (e) {
      this.terms.delete(id);
      throw new Error(`exec into ${t.namespace}/${t.pod} (${t.container}) failed: ${errorText(e)}`, {
        cause: e,
      });
    }
    this.terms.set(id, {
      write: (d) => stdin.write(d),
      resize: (c, r) => out.resize(c, r),
      close: () => ws.close(),
    });
    ws.on('close', () => this.exited(id, status ? 1 : 0, status));
    ws.on('error', (e: unknown) => this.exited(id, null, errorText(e)));
    return `${t.namespace}/${t.pod} · ${t.container}`;
  }

  input(id: string, data: string): void {
    const t = this.terms.get(id);
    if (!t) throw new Error(`no terminal "${id}"`);
    t.write(data);
  }

  resize(id: string, cols: number, rows: number): void {
    const t = this.terms.get(id);
    if (!t) throw new Error(`no terminal "${id}"`);
    t.resize(dims(cols, 1000), dims(rows, 1000));
  }

  close(id: string): boolean {
    const t = this.terms.get(id);
    if (!t) return false;
    t.close();
    return true;
  }

  closeAll(): void {
    for (const id of [...this.terms.keys()]) this.close(id);
  }
}
