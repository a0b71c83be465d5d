/**
 * The watch response: HTTP 200, chunked, headers flushed at once, one JSON event per line.
 * Handles timeoutSeconds, bookmarks, sendInitialEvents, Table-form events and 410 as an ERROR event.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KObject } from '../api/object.ts';
import { isStatusError } from '../api/status.ts';
import type { GenericRegistry } from './generic-registry.ts';
import type { Served } from './resources.ts';
import { type IncludeObject, toTable } from './table.ts';
import { toStatusError } from './http-util.ts';

export interface WatchParams {
  namespace: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  timeoutSeconds?: number;
  allowWatchBookmarks: boolean;
  sendInitialEvents: boolean;
  table: boolean;
  includeObject: IncludeObject;
  /** Bookmark interval (ms); real servers send one about every minute. */
  bookmarkEveryMs?: number;
}

export function serveWatch(
  registry: GenericRegistry,
  s: Served,
  req: IncomingMessage,
  res: ServerResponse,
  p: WatchParams,
): void {
  let firstTable = true;
  let lastRV =
    p.resourceVersion && p.resourceVersion !== '0' ? p.resourceVersion : String(registry.store.revision());
  const write = (type: string, object: unknown): void => {
    if (res.writableEnded || res.destroyed) return;
    res.write(`${JSON.stringify({ type, object })}\n`);
  };
  const encode = (obj: KObject): unknown => {
    if (!p.table) return obj;
    const t = toTable(
      s,
      [obj],
      { resourceVersion: obj.metadata.resourceVersion },
      p.includeObject,
      new Date(),
      firstTable,
    );
    firstTable = false;
    return t;
  };
  const bookmark = (initialEnd = false): void => {
    write('BOOKMARK', {
      kind: s.strategy.info.kind,
      apiVersion: s.gv,
      metadata: {
        resourceVersion: lastRV,
        ...(initialEnd ? { annotations: { 'k8s.io/initial-events-end': 'true' } } : {}),
      },
    });
  };

  res.writeHead(200, {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-cache, private',
    'Transfer-Encoding': 'chunked',
  });
  res.flushHeaders();

  let watcher: { stop(): void } | undefined;
  const timers: NodeJS.Timeout[] = [];
  const stop = (): void => {
    watcher?.stop();
    watcher = undefined;
    for (const t of timers) clearTimeout(t);
    if (!res.writableEnded) res.end();
  };
  res.on('close', stop);
  req.on('aborted', stop);

  try {
    // sendInitialEvents=true: the current state as ADDED, then an initial-events-end bookmark.
    const initial = p.sendInitialEvents ? '0' : p.resourceVersion;
    watcher = registry.watch(
      s,
      p.namespace,
      { labelSelector: p.labelSelector, fieldSelector: p.fieldSelector, resourceVersion: initial },
      (type, obj) => {
        if (obj.metadata.resourceVersion) lastRV = obj.metadata.resourceVersion;
        write(type, encode(obj));
      },
    );
    if (p.sendInitialEvents) {
      lastRV = String(Math.max(Number(lastRV), registry.store.revision()));
      bookmark(true);
    }
  } catch (e) {
    const se = toStatusError(e);
    if (isStatusError(e) && (se.code === 410 || se.code === 400 || se.code === 404)) {
      write('ERROR', se.status);
      res.end();
      return;
    }
    write('ERROR', se.status);
    res.end();
    return;
  }
  if (p.timeoutSeconds && p.timeoutSeconds > 0) timers.push(setTimeout(stop, p.timeoutSeconds * 1000));
  if (p.allowWatchBookmarks) {
    const every = p.bookmarkEveryMs ?? 60_000;
    const tick = (): void => {
      bookmark();
      timers.push(setTimeout(tick, every));
    };
    timers.push(setTimeout(tick, every));
  }
}
