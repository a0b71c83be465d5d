/**
 * The two iptables operations an agent component needs (written so the service proxy can share them):
 * feed an `iptables-restore --noflush` text on stdin (atomic: all of it applies or nothing), and make
 * sure a jump from a built-in chain exists (checked with -C, inserted first with -I when missing).
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export function iptablesRestore(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('iptables-restore', ['-w', '5', '--noflush'], { stdio: ['pipe', 'ignore', 'pipe'] });
    const errs: Buffer[] = [];
    child.stderr.on('data', (d: Buffer) => errs.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`iptables-restore: exit ${code}: ${Buffer.concat(errs).toString().trim()}`));
    });
    child.stdin.end(text);
  });
}

export interface Jump {
  table: string;
  chain: string;
  rule: readonly string[];
}

/** Inserts `jump` at the top of its chain unless it is already there. */
export async function ensureJump(jump: Jump): Promise<void> {
  const args = ['-w', '5', '-t', jump.table];
  try {
    await run('iptables', [...args, '-C', jump.chain, ...jump.rule]);
  } catch {
    await run('iptables', [...args, '-I', jump.chain, '1', ...jump.rule]);
  }
}

/** `iptables-save -t <table>` output. */
export async function iptablesSave(table: string): Promise<string> {
  return (await run('iptables-save', ['-t', table])).stdout;
}
