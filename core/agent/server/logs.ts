/**
 * /containerLogs: the CRI log file of the container's current (or previous) instance, shaped like the
 * kubelet's answer (cri-log.ts), optionally followed as it grows until the container has exited and the
 * file is drained, or the client goes away. Follow survives the file being replaced (a reopened or
 * rotated log: the old file is drained, then the new one is read from its start).
 */
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  LogFormatter,
  parseLogLine,
  parseTimestampNs,
  splitLines,
  tailStart,
  type LogEntry,
} from './cri-log.ts';
import { containerInstances, currentContainer, type PodRef, type StreamCri } from './containers.ts';
import { AgentError } from './status.ts';

export interface LogOptions {
  follow: boolean;
  previous: boolean;
  tailLines?: number;
  sinceNs?: bigint;
  timestamps: boolean;
  limitBytes?: number;
}

const flag = (q: URLSearchParams, k: string): boolean => /^(1|true)$/i.test(q.get(k) ?? '');

function nonNegative(q: URLSearchParams, k: string, min: number): number | undefined {
  const v = q.get(k);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v) || Number(v) < min) throw new AgentError(400, `invalid ${k}: ${v}`);
  return Number(v);
}

/** The query of /containerLogs (names as the kubelet's), checked like the API's validation. */
export function parseLogQuery(q: URLSearchParams, nowMs = Date.now()): LogOptions {
  const sinceSeconds = nonNegative(q, 'sinceSeconds', 1);
  const sinceTime = q.get('sinceTime') || undefined;
  if (sinceSeconds !== undefined && sinceTime)
    throw new AgentError(400, 'at most one of sinceTime or sinceSeconds may be specified');
  let sinceNs: bigint | undefined;
  if (sinceSeconds !== undefined) sinceNs = BigInt(nowMs - sinceSeconds * 1000) * 1_000_000n;
  if (sinceTime) {
    sinceNs = parseTimestampNs(sinceTime);
    if (sinceNs === undefined) throw new AgentError(400, `invalid sinceTime: ${sinceTime}`);
  }
  const tailLines = nonNegative(q, 'tailLines', 0);
  const limitBytes = nonNegative(q, 'limitBytes', 1);
  return {
    follow: flag(q, 'follow'),
    previous: flag(q, 'previous'),
    timestamps: flag(q, 'timestamps'),
    ...(tailLines !== undefined ? { tailLines } : {}),
    ...(sinceNs !== undefined ? { sinceNs } : {}),
    ...(limitBytes !== undefined ? { limitBytes } : {}),
  };
}

/** Where output goes: write returns a promise that resolves when more may be written. */
export interface LogSink {
  write(b: Buffer): Promise<void>;
  /** True once the client went away. */
  readonly closed: boolean;
  /** Resolves when the client goes away. */
  readonly gone: Promise<void>;
}

export interface LogSource {
  path: string;
  /** True once nothing more will be written to the file (the container has exited). */
  finished(): Promise<boolean>;
}

/** Resolves which file to read for the request; Status errors as the kubelet words them. */
export async function resolveLogSource(
  cri: StreamCri,
  pod: PodRef,
  container: string,
  previous: boolean,
): Promise<LogSource> {
  const logPath = async (id: string): Promise<string> =>
    (await cri.containerStatus(id)).status?.logPath ?? '';
  const exited = (id: string) => async (): Promise<boolean> => {
    try {
      const s = (await cri.containerStatus(id)).status?.state;
      return s !== 'CONTAINER_RUNNING' && s !== 'CONTAINER_CREATED';
    } catch {
      return true; // removed
    }
  };
  if (!previous) {
    const c = await currentContainer(cri, pod, container);
    return { path: await logPath(c.id), finished: exited(c.id) };
  }
  const notFound = new AgentError(
    400,
    `previous terminated container "${container}" in pod "${pod.name}" not found`,
  );
  const [current, prev] = await containerInstances(cri, pod, container);
  if (!current) throw notFound;
  if (prev) {
    const path = await logPath(prev.id).catch(() => '');
    if (path && existsSync(path)) return { path, finished: () => Promise.resolve(true) };
  }
  // The previous instance may be gone from containerd while its log file is kept (<restartCount>.log).
  if (current.restartCount > 0) {
    const dir = dirname(await logPath(current.id));
    const path = join(dir, `${current.restartCount - 1}.log`);
    if (existsSync(path)) return { path, finished: () => Promise.resolve(true) };
  }
  throw notFound;
}

async function readAll(fh: FileHandle, from: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let pos = from;
  const chunk = Buffer.alloc(256 * 1024);
  for (;;) {
    const { bytesRead } = await fh.read(chunk, 0, chunk.length, pos);
    if (!bytesRead) break;
    parts.push(Buffer.from(chunk.subarray(0, bytesRead)));
    pos += bytesRead;
  }
  return Buffer.concat(parts);
}

const openOrUndefined = (path: string): Promise<FileHandle | undefined> =>
  open(path, 'r').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });

/** Writes the log to `sink` per `opts`; returns when done (or the client left). */
export async function streamLog(
  source: LogSource,
  opts: LogOptions,
  sink: LogSink,
  pollMs = 1000,
): Promise<void> {
  const formatter = new LogFormatter({
    timestamps: opts.timestamps,
    ...(opts.sinceNs !== undefined ? { sinceNs: opts.sinceNs } : {}),
    ...(opts.limitBytes !== undefined ? { limitBytes: opts.limitBytes } : {}),
  });
  const emit = async (entries: LogEntry[]): Promise<void> => {
    for (const e of entries) {
      if (sink.closed || formatter.exhausted) return;
      const out = formatter.format(e);
      if (out?.length) await sink.write(out);
    }
  };
  const parse = (lines: Buffer[]): LogEntry[] =>
    lines.map(parseLogLine).filter((e): e is LogEntry => e !== undefined);

  let fh = await openOrUndefined(source.path);
  let ino = fh ? (await fh.stat()).ino : -1;
  let offset = 0;
  let rest = Buffer.alloc(0);
  try {
    if (fh) {
      const { lines, rest: r } = splitLines(await readAll(fh, 0));
      offset += lines.reduce((n, l) => n + l.length + 1, 0);
      rest = Buffer.from(r);
      const entries = parse(lines);
      await emit(opts.tailLines !== undefined ? entries.slice(tailStart(entries, opts.tailLines)) : entries);
    }
    if (!opts.follow) return;

    let wake: (() => void) | undefined;
    let watcher: FSWatcher | undefined;
    try {
      watcher = watch(dirname(source.path), () => wake?.());
      watcher.on('error', () => watcher?.close());
    } catch {
      /* no inotify: polling only */
    }
    try {
      for (;;) {
        if (sink.closed || formatter.exhausted) return;
        let got = false;
        if (fh) {
          const more = await readAll(fh, offset + rest.length);
          if (more.length) {
            got = true;
            const { lines, rest: r } = splitLines(rest.length ? Buffer.concat([rest, more]) : more);
            offset += lines.reduce((n, l) => n + l.length + 1, 0);
            rest = Buffer.from(r);
            await emit(parse(lines));
            continue;
          }
        }
        // Replaced (reopened/rotated) or truncated: start over on the file now at the path.
        const st = await stat(source.path).catch(() => undefined);
        if (st && (st.ino !== ino || st.size < offset + rest.length)) {
          await fh?.close();
          fh = await openOrUndefined(source.path);
          ino = fh ? (await fh.stat()).ino : -1;
          offset = 0;
          rest = Buffer.alloc(0);
          continue;
        }
        if (!got && (await source.finished())) {
          // Drain what was written between the last read and the exit.
          if (fh) {
            const last = await readAll(fh, offset + rest.length);
            const { lines } = splitLines(Buffer.concat([rest, last, Buffer.from('\n')]));
            await emit(parse(lines));
          }
          return;
        }
        await Promise.race([
          new Promise<void>((r) => {
            wake = r;
            setTimeout(r, pollMs).unref();
          }),
          sink.gone,
        ]);
        wake = undefined;
      }
    } finally {
      watcher?.close();
    }
  } finally {
    await fh?.close();
  }
}
