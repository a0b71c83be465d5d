/**
 * Log streams of one GUI session: GET pods/<name>/log (follow, previous, timestamps, tailLines) for
 * one pod, or for every pod of a workload merged line by line with a `[pod/container] ` prefix.
 * Lines are split per stream and sent in batches (at most every 50 ms) as LogMessages.
 */
import type { LogMessage } from './contract.ts';
import { errorText, resourcePath, type KubeClient } from './kube-client.ts';

export interface LogRequest {
  client: KubeClient;
  namespace: string;
  /** pod → container to read. */
  streams: { pod: string; container: string }[];
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  tailLines?: number;
}

const MAX_STREAMS = 50;
const FLUSH_MS = 50;

/** Splits chunks into lines; keeps the unterminated tail for the next chunk. */
export class LineSplitter {
  private rest = '';
  push(chunk: string): string[] {
    const parts = (this.rest + chunk).split('\n');
    this.rest = parts.pop() ?? '';
    return parts.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  }
  flush(): string[] {
    const r = this.rest;
    this.rest = '';
    return r ? [r] : [];
  }
}

interface OpenStream {
  abort(): void;
}

export class LogSet {
  private open = new Map<string, OpenStream[]>();
  private pending = new Map<string, string[]>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private emit: (m: LogMessage) => void) {}

  private queue(id: string, lines: string[]): void {
    if (!lines.length || !this.open.has(id)) return;
    const q = this.pending.get(id) ?? [];
    q.push(...lines);
    this.pending.set(id, q);
    this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  private flush(): void {
    this.timer = undefined;
    for (const [id, lines] of this.pending)
      if (this.open.has(id)) this.emit({ kind: 'event', channel: 'logs', streamId: id, lines });
    this.pending.clear();
  }

  /**
   * Opens every stream; resolves once each has answered (lines then keep coming as LogMessages).
   * Rejects when no stream could be opened, with the API server's reason.
   */
  async start(id: string, req: LogRequest): Promise<void> {
    if (this.open.has(id)) throw new Error(`log stream "${id}" is already open`);
    if (!req.streams.length) throw new Error('no pods to read logs from');
    if (req.streams.length > MAX_STREAMS) throw new Error(`at most ${MAX_STREAMS} pods per log view`);
    const handles: OpenStream[] = [];
    this.open.set(id, handles);
    const merged = req.streams.length > 1;
    let remaining = req.streams.length;
    const failures: string[] = [];
    await Promise.all(
      req.streams.map(async ({ pod, container }) => {
        const prefix = merged ? `[${pod}/${container}] ` : '';
        const split = new LineSplitter();
        let ended = false;
        const end = (error?: string): void => {
          if (ended) return;
          ended = true;
          this.queue(
            id,
            split.flush().map((l) => prefix + l),
          );
          this.flush();
          if (this.open.has(id))
            this.emit({
              kind: 'event',
              channel: 'logs',
              streamId: id,
              ended: { pod, container, ...(error ? { error } : {}) },
            });
          if (--remaining === 0) this.open.delete(id);
        };
        const abort = new AbortController();
        handles.push({ abort: () => abort.abort() });
        try {
          const path = `${resourcePath({ group: '', version: 'v1', resource: 'pods' }, req.namespace, pod)}/log`;
          const res = await req.client.stream(
            path,
            {
              container,
              follow: req.follow || undefined,
              previous: req.previous || undefined,
              timestamps: req.timestamps || undefined,
              tailLines: req.tailLines,
            },
            abort.signal,
          );
          res.setEncoding('utf8');
          res.on('data', (text: string) =>
            this.queue(
              id,
              split.push(text).map((l) => prefix + l),
            ),
          );
          res.on('end', () => end());
          res.on('error', (e) => end(abort.signal.aborted ? undefined : errorText(e)));
        } catch (e) {
          const why = errorText(e);
          failures.push(`${pod}/${container}: ${why}`);
          end(why);
        }
      }),
    );
    if (failures.length === req.streams.length) {
      this.close(id);
      throw new Error(failures.length === 1 ? (failures[0] ?? '') : failures.join('; '));
    }
  }

  close(id: string): boolean {
    const handles = this.open.get(id);
    if (!handles) return false;
    this.open.delete(id);
    this.pending.delete(id);
    for (const h of handles) h.abort();
    return true;
  }

  closeAll(): void {
    for (const id of [...this.open.keys()]) this.close(id);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
