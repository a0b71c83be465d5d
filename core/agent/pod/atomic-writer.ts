/**
 * The kubelet's AtomicWriter layout for configMap/secret/downwardAPI/projected volumes:
 *
 *   <dir>/..2026_01_02_15_04_05.123456789/<path>   the payload, one timestamped directory per version
 *   <dir>/..data -> ..2026_01_02_15_04_05.123456789  (relative symlink, swapped by rename: atomic)
 *   <dir>/<first path element> -> ..data/<first path element>
 *
 * A reader that follows <dir>/key always sees one complete version.
 */
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';

export interface FileProjection {
  data: Buffer;
  /** Permission bits (e.g. 0o644). */
  mode: number;
}

/** Relative file path → content. */
export type Payload = Map<string, FileProjection>;

export const DATA_DIR = '..data';
const DATA_TMP = '..data_tmp';

/** A payload path must be relative, without '..' elements, and not start with '..'. */
export function validatePayloadPath(p: string): string | undefined {
  if (!p) return 'invalid path: must not be empty';
  if (p.startsWith('/')) return `invalid path: must be relative path: ${p}`;
  if (p.split('/').includes('..')) return `invalid path: must not contain '..': ${p}`;
  if (p.startsWith('..')) return `invalid path: must not start with '..': ${p}`;
  return undefined;
}

/** "..2006_01_02_15_04_05." prefix as the kubelet names version directories. */
function versionPrefix(d = new Date()): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `..${d.getUTCFullYear()}_${p(d.getUTCMonth() + 1)}_${p(d.getUTCDate())}_${p(d.getUTCHours())}_${p(d.getUTCMinutes())}_${p(d.getUTCSeconds())}.`;
}

/** The payload currently visible in dir (through ..data), or undefined when none was written. */
export function readCurrentPayload(dir: string): Payload | undefined {
  const data = join(dir, DATA_DIR);
  let target: string;
  try {
    target = readlinkSync(data);
  } catch {
    return undefined;
  }
  const out: Payload = new Map();
  const walk = (abs: string, rel: string): void => {
    for (const name of readdirSync(abs)) {
      const a = join(abs, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(a);
      if (st.isDirectory()) walk(a, r);
      else out.set(r, { data: readFileSync(a), mode: st.mode & 0o7777 });
    }
  };
  walk(join(dir, target), '');
  return out;
}

function samePayload(a: Payload, b: Payload): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (!w || !w.data.equals(v.data)) return false;
  }
  return true;
}

function topLevel(paths: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const p of paths) out.add(p.split('/')[0] ?? p);
  return out;
}

/**
 * Writes the payload into dir atomically; returns false when the same paths with the same contents are
 * there already (the kubelet compares contents, not modes).
 * `prepare(path, isDir)` runs on the whole volume (fsGroup ownership, as the kubelet's setPerms): every
 * file and directory of the new version before it becomes visible, the ..data and top-level links, the
 * root directory.
 */
export function writeAtomic(
  dir: string,
  payload: Payload,
  prepare?: (path: string, isDir: boolean) => void,
): boolean {
  for (const p of payload.keys()) {
    const bad = validatePayloadPath(p);
    if (bad) throw new Error(bad);
  }
  mkdirSync(dir, { recursive: true });
  const old = readCurrentPayload(dir);
  if (old && samePayload(old, payload)) return false;
  const oldTarget = old ? readlinkSync(join(dir, DATA_DIR)) : undefined;
  const version = mkdtempSync(join(dir, versionPrefix()));
  chmodSync(version, 0o755);
  for (const [p, f] of payload) {
    const file = join(version, p);
    mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
    writeFileSync(file, f.data);
    chmodSync(file, f.mode);
  }
  if (prepare) walkTree(version, prepare);
  const tmp = join(dir, DATA_TMP);
  rmSync(tmp, { force: true });
  symlinkSync(version.slice(dir.length + 1), tmp);
  if (prepare) prepare(tmp, false);
  renameSync(tmp, join(dir, DATA_DIR));
  // User-visible names: a symlink per top-level element; stale ones removed.
  const want = topLevel(payload.keys());
  for (const name of want) {
    const link = join(dir, name);
    if (!existsLink(link)) symlinkSync(join(DATA_DIR, name), link);
    prepare?.(link, false);
  }
  prepare?.(dir, true);
  for (const name of old ? topLevel(old.keys()) : []) if (!want.has(name)) unlinkSync(join(dir, name));
  if (oldTarget) rmSync(join(dir, oldTarget), { recursive: true, force: true });
  return true;
}

function walkTree(dir: string, fn: (path: string, isDir: boolean) => void): void {
  fn(dir, true);
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (lstatSync(p).isDirectory()) walkTree(p, fn);
    else fn(p, false);
  }
}

function existsLink(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}
