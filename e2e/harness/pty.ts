/** kubectl under a real pseudo-terminal (node-pty), for `exec -it`, `attach -it` and `debug -it` scenarios. */
import * as pty from 'node-pty';
import { kubectlPath, type KubectlVersion } from './kubectl.ts';

export interface PtySession {
  output(): string;
  write(s: string): void;
  resize(cols: number, rows: number): void;
  /** Whether the child has exited. */
  isDone(): boolean;
  /** Resolves with the child's exit code. */
  exited: Promise<number>;
  kill(): void;
}

/** Runs `kubectl.<version> args` in an xterm (80×24 unless given) with the cluster's kubeconfig and HOME. */
export function ptyKubectl(
  version: KubectlVersion,
  args: string[],
  cluster: { home: string; kubeconfig: string },
  size: { cols: number; rows: number } = { cols: 80, rows: 24 },
): PtySession {
  const bin = kubectlPath(version);
  if (!bin) throw new Error(`kubectl.${version} not available`);
  const p = pty.spawn(bin, args, {
    name: 'xterm',
    cols: size.cols,
    rows: size.rows,
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: cluster.home,
      KUBECONFIG: cluster.kubeconfig,
      TERM: 'xterm',
    },
  });
  let out = '';
  let done = false;
  p.onData((d) => (out += d));
  const exited = new Promise<number>((resolve) =>
    p.onExit((e) => {
      done = true;
      resolve(e.exitCode);
    }),
  );
  return {
    output: () => out,
    write: (s) => p.write(s),
    resize: (cols, rows) => p.resize(cols, rows),
    isDone: () => done,
    exited,
    kill: () => {
      if (!done) p.kill('SIGKILL');
    },
  };
}
