/**
 * The audit log: one audit.k8s.io/v1 Event per request as a JSON line in `<data-dir>/audit.log`, at the
 * Metadata level (who, what verb on which object, from where, with what response code; never request or
 * response bodies, so no Secret data), stage ResponseComplete. The file is rotated when it passes
 * `maxBytes` (audit.log → audit.log.1 → … up to `maxBackups`), as kube-apiserver's --audit-log-maxsize /
 * --audit-log-maxbackup do. Health probes are not logged.
 */
import { appendFileSync, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { UserInfo } from '../auth/types.ts';
import type { RequestInfo } from './request-info.ts';

export const AUDIT_LOG_FILE = 'audit.log';

export interface AuditEvent {
  kind: 'Event';
  apiVersion: 'audit.k8s.io/v1';
  level: 'Metadata';
  auditID: string;
  stage: 'ResponseComplete' | 'Panic';
  requestURI: string;
  verb: string;
  user: AuditUser;
  impersonatedUser?: AuditUser;
  sourceIPs: string[];
  userAgent?: string;
  objectRef?: {
    resource: string;
    namespace?: string;
    name?: string;
    apiGroup?: string;
    apiVersion: string;
    subresource?: string;
  };
  responseStatus: { metadata: Record<string, never>; code: number; status?: 'Failure' };
  /** What admission recorded about the request (e.g. pod-security.kubernetes.io/audit-violations). */
  annotations?: Record<string, string>;
  requestReceivedTimestamp: string;
  stageTimestamp: string;
}

interface AuditUser {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

export interface AuditOptions {
  /** Rotate when the file reaches this size (default 100 MiB, kube-apiserver's usual --audit-log-maxsize). */
  maxBytes?: number;
  /** Rotated files kept (default 3). */
  maxBackups?: number;
}

/** What the request path tells the log once it knows it. */
export interface AuditHandle {
  /** `annotations` is read when the event is written: admission may add to it until then. */
  identify(
    authenticated: UserInfo,
    effective: UserInfo,
    info: RequestInfo,
    annotations?: Record<string, string>,
  ): void;
}

const SKIPPED_PATHS = new Set(['/healthz', '/livez', '/readyz']);

const toAuditUser = (u: UserInfo): AuditUser => ({
  username: u.username,
  ...(u.uid ? { uid: u.uid } : {}),
  ...(u.groups.length ? { groups: [...u.groups] } : {}),
  ...(u.extra && Object.keys(u.extra).length ? { extra: u.extra } : {}),
});

/** metadata.name of a JSON object response, or undefined. */
function createdName(chunk: string | Buffer): string | undefined {
  try {
    const o = JSON.parse(typeof chunk === 'string' ? chunk : chunk.toString('utf8')) as {
      metadata?: { name?: unknown };
    };
    return typeof o.metadata?.name === 'string' ? o.metadata.name : undefined;
  } catch {
    return undefined;
  }
}

/** The audit backend: a size-bounded JSON-lines file. */
export class AuditLog {
  readonly path: string;
  private readonly maxBytes: number;
  private readonly maxBackups: number;
  private size: number;

  constructor(dataDir: string, opts: AuditOptions = {}) {
    this.path = join(dataDir, AUDIT_LOG_FILE);
    this.maxBytes = opts.maxBytes ?? 100 * 1024 * 1024;
    this.maxBackups = Math.max(1, opts.maxBackups ?? 3);
    this.size = existsSync(this.path) ? statSync(this.path).size : 0;
  }

  /** Starts tracking one request; the event is written when the response completes (or the socket closes). */
  start(req: IncomingMessage, res: ServerResponse): AuditHandle | undefined {
    const uri = req.url ?? '/';
    const path = uri.split('?')[0]!.replace(/\/+$/, '') || '/';
    if (SKIPPED_PATHS.has(path)) return undefined;
    const received = new Date();
    let who:
      | {
          authenticated: UserInfo;
          effective: UserInfo;
          info: RequestInfo;
          annotations?: Record<string, string>;
        }
      | undefined;
    let written = false;
    let created: string | undefined;
    const finish = (): void => {
      if (written) return;
      written = true;
      this.write(this.event(req, res, uri, received, who, created));
    };
    // A create names its object only in the body: keep the response's metadata.name for objectRef, as
    // upstream fills it from the decoded object (the body itself is never logged).
    if (req.method === 'POST') {
      const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
      res.end = ((...args: unknown[]) => {
        const chunk = args[0];
        if (res.statusCode < 300 && (typeof chunk === 'string' || Buffer.isBuffer(chunk)))
          created = createdName(chunk);
        return end(...args);
      }) as ServerResponse['end'];
    }
    res.once('finish', finish);
    res.once('close', finish);
    return {
      identify(authenticated, effective, info, annotations) {
        who = { authenticated, effective, info, annotations };
      },
    };
  }

  private event(
    req: IncomingMessage,
    res: ServerResponse,
    uri: string,
    received: Date,
    who:
      | {
          authenticated: UserInfo;
          effective: UserInfo;
          info: RequestInfo;
          annotations?: Record<string, string>;
        }
      | undefined,
    created: string | undefined,
  ): AuditEvent {
    const info = who?.info;
    const code = res.statusCode;
    const ev: AuditEvent = {
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: 'Metadata',
      auditID: String(req.headers['audit-id'] ?? '') || randomUUID(),
      stage: 'ResponseComplete',
      requestURI: uri,
      verb: info?.verb ?? (req.method ?? 'GET').toLowerCase(),
      user: who ? toAuditUser(who.authenticated) : { username: '' },
      sourceIPs: [req.socket.remoteAddress ?? ''].filter(Boolean),
      responseStatus: { metadata: {}, code, ...(code >= 400 ? { status: 'Failure' as const } : {}) },
      requestReceivedTimestamp: received.toISOString(),
      stageTimestamp: new Date().toISOString(),
    };
    const ua = req.headers['user-agent'];
    if (ua) ev.userAgent = ua;
    if (who && who.effective !== who.authenticated) ev.impersonatedUser = toAuditUser(who.effective);
    if (who?.annotations && Object.keys(who.annotations).length) ev.annotations = { ...who.annotations };
    if (info?.isResourceRequest)
      ev.objectRef = {
        resource: info.resource,
        ...(info.namespace ? { namespace: info.namespace } : {}),
        ...(info.name || created ? { name: info.name || created } : {}),
        ...(info.apiGroup ? { apiGroup: info.apiGroup } : {}),
        apiVersion: info.apiVersion,
        ...(info.subresource ? { subresource: info.subresource } : {}),
      };
    return ev;
  }

  private write(ev: AuditEvent): void {
    const line = `${JSON.stringify(ev)}\n`;
    try {
      if (this.size > 0 && this.size + Buffer.byteLength(line) > this.maxBytes) this.rotate();
      appendFileSync(this.path, line, { mode: 0o600 });
      this.size += Buffer.byteLength(line);
    } catch {
      // An unwritable audit log must not take the API down (kube-apiserver's batch backend drops too).
    }
  }

  private rotate(): void {
    rmSync(`${this.path}.${this.maxBackups}`, { force: true });
    for (let i = this.maxBackups - 1; i >= 1; i--)
      if (existsSync(`${this.path}.${i}`)) renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
    renameSync(this.path, `${this.path}.1`);
    this.size = 0;
  }
}
