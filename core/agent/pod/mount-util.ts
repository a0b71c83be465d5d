/** Mount helpers for volumes: is a path a mount point, mount a tmpfs, unmount (mount(8) via child_process). */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** Mount points of this mount namespace (/proc/self/mountinfo field 5, octal escapes decoded). */
export function mountPoints(): Set<string> {
  const out = new Set<string>();
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    const f = line.split(' ')[4];
    if (f) out.add(f.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  }
  return out;
}

export function isMountPoint(path: string): boolean {
  return mountPoints().has(resolve(path));
}

/** Runs a command; rejects with the kubelet's mount error text (exit status, command, arguments, output). */
function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((ok, fail) => {
    execFile(cmd, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      if (!err) return ok();
      const code = typeof err.code === 'number' ? `exit status ${err.code}` : err.message;
      fail(
        new Error(
          `${cmd} failed: ${code}\nMounting command: ${cmd}\nMounting arguments: ${args.join(' ')}\nOutput: ${`${stdout}${stderr}`.trim()}`,
        ),
      );
    });
  });
}

/** Mounts a tmpfs on dir (size in bytes when given) unless something is mounted there already. */
export async function mountTmpfs(dir: string, sizeBytes?: number): Promise<void> {
  if (isMountPoint(dir)) return;
  const args = ['-t', 'tmpfs'];
  if (sizeBytes && sizeBytes > 0) args.push('-o', `size=${sizeBytes}`);
  await run('mount', [...args, 'tmpfs', dir]);
}

/** Unmounts dir when it is a mount point. */
export async function unmountIfMounted(dir: string): Promise<void> {
  if (isMountPoint(dir)) await run('umount', [dir]);
}
