/** hostPath type checks (the hostpath plugin's checkType), with the kubelet's messages. */
import { closeSync, mkdirSync, openSync, statSync, type Stats } from 'node:fs';

export type HostPathType =
  '' | 'DirectoryOrCreate' | 'Directory' | 'FileOrCreate' | 'File' | 'Socket' | 'CharDevice' | 'BlockDevice';

function stat(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** Go's *PathError text for a failed syscall ("open /x: no such file or directory"). */
function goPathError(op: string, path: string, e: unknown): Error {
  const code = (e as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT'
      ? 'no such file or directory'
      : code === 'EACCES'
        ? 'permission denied'
        : code === 'ENOTDIR'
          ? 'not a directory'
          : ((e as Error).message ?? String(e));
  return new Error(`${op} ${path}: ${why}`);
}

/** The check of each existing-path type: what it must be, and the test. */
const CHECKS: Record<string, [string, (st: Stats) => boolean]> = {
  Directory: ['directory', (st) => st.isDirectory()],
  DirectoryOrCreate: ['directory', (st) => st.isDirectory()],
  File: ['file', (st) => st.isFile()],
  FileOrCreate: ['file', (st) => st.isFile()],
  Socket: ['socket file', (st) => st.isSocket()],
  CharDevice: ['character device', (st) => st.isCharacterDevice()],
  BlockDevice: ['block device', (st) => st.isBlockDevice()],
};

/** Creates a missing DirectoryOrCreate (0755, parents too) or FileOrCreate (0644, parent must exist). */
function create(path: string, type: string): void {
  const dir = type === 'DirectoryOrCreate';
  try {
    if (dir) mkdirSync(path, { recursive: true, mode: 0o755 });
    else closeSync(openSync(path, 'a', 0o644));
  } catch (e) {
    throw goPathError(dir ? 'mkdir' : 'open', path, e);
  }
}

/**
 * Checks (and for the *OrCreate types creates) a hostPath; throws with the kubelet's message:
 * "hostPath type check failed: /p is not a directory" and so on. Type "" checks nothing.
 */
export function checkHostPathType(path: string, type: string | undefined): void {
  const t = type ?? '';
  if (t === '') return;
  const check = CHECKS[t];
  if (!check) throw new Error(`${t} is an invalid volume type`);
  const st = stat(path);
  if (!st && t.endsWith('OrCreate')) return create(path, t);
  if (!st || !check[1](st)) throw new Error(`hostPath type check failed: ${path} is not a ${check[0]}`);
}
