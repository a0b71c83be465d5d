/** One running `berth up` per data dir: a pid file, checked for a live process. */
import { readFileSync, writeFileSync, rmSync } from 'node:fs';

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function readPid(pidFile: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Returns the pid of a live owner, or undefined. */
export function runningPid(pidFile: string): number | undefined {
  const pid = readPid(pidFile);
  return pid !== undefined && isAlive(pid) ? pid : undefined;
}

export function acquire(pidFile: string): void {
  const other = runningPid(pidFile);
  if (other !== undefined && other !== process.pid)
    throw new Error(
      `a Berth cluster is already running on this data dir (pid ${other}); stop it with \`berth down\` first`,
    );
  writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o600 });
}

export function release(pidFile: string): void {
  if (readPid(pidFile) === process.pid) rmSync(pidFile, { force: true });
}
