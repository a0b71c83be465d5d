/**
 * The remote client: the Kubernetes REST API over HTTPS with a client certificate or a bearer token
 * (what node agents and tools use). Same interface as the in-process client (KubeClient). Watches are the
 * streamed JSON event lines of `?watch=true`; an ERROR event ends the watch with its Status as a
 * StatusError (410 Gone when the resourceVersion is too old).
 */
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { KObject } from '../api/object.ts';
import { StatusError, type Status, type StatusReason } from '../api/status.ts';
import type {
  ClientWatch,
  DeleteOpts,
  KubeClient,
  ListOpts,
  ListResult,
  PatchType,
  ResourceRef,
  WatchEventType,
  WatchOpts,
} from './types.ts';

export interface HttpsClientOptions {
  /** https://host:port */
  server: string;
  caPem: string | Buffer;
  certPem?: string | Buffer;
  keyPem?: string | Buffer;
  token?: string;
  userAgent?: string;
  /** Per-request timeout for non-watch calls (default 30 s). */
  timeoutMs?: number;
}

/** Builds options from a kubeconfig file (current context; embedded data or file paths). */
export function optionsFromKubeconfig(path: string): HttpsClientOptions {
  interface Named {
    name: string;
  }
  const kc = parseYaml(readFileSync(path, 'utf8')) as {
    'current-context'?: string;
    contexts?: (Named & { context: { cluster: string; user: string } })[];
    clusters?: (Named & {
      cluster: { server: string; 'certificate-authority-data'?: string; 'certificate-authority'?: string };
    })[];
    users?: (Named & {
      user: {
        'client-certificate-data'?: string;
        'client-key-data'?: string;
        'client-certificate'?: string;
        'client-key'?: string;
        token?: string;
      };
    })[];
  };
  const ctx = kc.contexts?.find((c) => c.name === kc['current-context']) ?? kc.contexts?.[0];
  const cluster = kc.clusters?.find((c) => c.name === ctx?.context.cluster)?.cluster;
  const user = kc.users?.find((u) => u.name === ctx?.context.user)?.user;
  if (!cluster) throw new Error(`${path}: no cluster for the current context`);
  const b64 = (s: string): Buffer => Buffer.from(s, 'base64');
  const pick = (data?: string, file?: string): Buffer | undefined =>
    data ? b64(data) : file ? readFileSync(file) : undefined;
  const caPem = pick(cluster['certificate-authority-data'], cluster['certificate-authority']);
  if (!caPem) throw new Error(`${path}: the cluster has no certificate authority`);
  return {
    server: cluster.server,
    caPem,
    certPem: pick(user?.['client-certificate-data'], user?.['client-certificate']),
    keyPem: pick(user?.['client-key-data'], user?.['client-key']),
    token: user?.token,
  };
}

/** The REST path of a collection or an object. */
export function resourcePath(r: ResourceRef, namespace: string, name?: string, subresource?: string): string {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  const ns = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  const obj = name !== undefined ? `/${encodeURIComponent(name)}` : '';
  const sub = subresource ? `/${subresource}` : '';
  return `${base}${ns}/${r.resource}${obj}${sub}`;
}

function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** Turns a non-2xx response body into a StatusError (the server's Status when it sent one). */
export function statusErrorFrom(code: number, body: string): StatusError {
  try {
    const st = JSON.parse(body) as Partial<Status>;
    if (st.kind === 'Status')
      return new StatusError(
        st.code ?? code,
        (st.reason ?? '') as StatusReason,
        st.message ?? '',
        st.details,
      );
  } catch {
    // not JSON
  }
  return new StatusError(code, '' as StatusReason, body.trim() || `HTTP ${code}`);
}

export class HttpsClient implements KubeClient {
  private readonly agent: https.Agent;
  private readonly url: URL;

  constructor(private readonly o: HttpsClientOptions) {
    this.url = new URL(o.server);
    this.agent = new https.Agent({
      keepAlive: true,
      ca: o.caPem,
      ...(o.certPem && o.keyPem ? { cert: o.certPem, key: o.keyPem } : {}),
    });
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  private open(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
    timeoutMs: number | undefined = this.o.timeoutMs ?? 30_000,
  ): Promise<IncomingMessage> {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: this.url.hostname.replace(/^\[|\]$/g, ''),
          port: this.url.port || 443,
          method,
          path,
          agent: this.agent,
          headers: {
            Accept: 'application/json',
            'User-Agent': this.o.userAgent ?? 'berth-client',
            ...(this.o.token ? { Authorization: `Bearer ${this.o.token}` } : {}),
            ...(payload !== undefined
              ? { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(payload) }
              : {}),
          },
        },
        resolve,
      );
      if (timeoutMs) req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  private async call<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    const res = await this.open(method, path, body, contentType);
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const code = res.statusCode ?? 0;
    if (code < 200 || code > 299) throw statusErrorFrom(code, text);
    return JSON.parse(text) as T;
  }

  get(r: ResourceRef, namespace: string, name: string): Promise<KObject> {
    return this.call('GET', resourcePath(r, namespace, name));
  }

  async list(r: ResourceRef, namespace: string, opts: ListOpts = {}): Promise<ListResult> {
    const l = await this.call<{
      items?: KObject[];
      metadata?: { resourceVersion?: string; continue?: string };
    }>('GET', resourcePath(r, namespace) + query({ ...opts }));
    return {
      items: l.items ?? [],
      resourceVersion: l.metadata?.resourceVersion ?? '',
      ...(l.metadata?.continue ? { continue: l.metadata.continue } : {}),
    };
  }

  create(r: ResourceRef, namespace: string, obj: KObject): Promise<KObject> {
    return this.call('POST', resourcePath(r, namespace), obj);
  }

  update(r: ResourceRef, namespace: string, obj: KObject, subresource?: string): Promise<KObject> {
    return this.call('PUT', resourcePath(r, namespace, obj.metadata.name ?? '', subresource), obj);
  }

  patch(
    r: ResourceRef,
    namespace: string,
    name: string,
    type: PatchType,
    body: unknown,
    opts: { subresource?: string; fieldManager?: string; force?: boolean } = {},
  ): Promise<KObject> {
    return this.call(
      'PATCH',
      resourcePath(r, namespace, name, opts.subresource) +
        query({ fieldManager: opts.fieldManager, force: opts.force }),
      body,
      type,
    );
  }

  async delete(
    r: ResourceRef,
    namespace: string,
    name: string,
    opts: DeleteOpts = {},
  ): Promise<{ object: KObject; gone: boolean }> {
    const body = { kind: 'DeleteOptions', apiVersion: 'v1', ...opts };
    const res = await this.call<KObject & Partial<Status>>('DELETE', resourcePath(r, namespace, name), body);
    // A Status Success means the object is gone; an object means it is still terminating (finalizers,
    // grace period) — except for kinds that return the deleted object, where no deletionTimestamp is set.
    if (res.kind === 'Status') return { object: res as unknown as KObject, gone: true };
    return { object: res, gone: !res.metadata.deletionTimestamp };
  }

  async watch(
    r: ResourceRef,
    namespace: string,
    opts: WatchOpts,
    onEvent: (type: WatchEventType, obj: KObject) => void,
  ): Promise<ClientWatch> {
    const path =
      resourcePath(r, namespace) +
      query({
        watch: 'true',
        allowWatchBookmarks: 'true',
        resourceVersion: opts.resourceVersion,
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
        timeoutSeconds: opts.timeoutSeconds,
      });
    const res = await this.open('GET', path, undefined, undefined, 0);
    const code = res.statusCode ?? 0;
    if (code !== 200) {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      throw statusErrorFrom(code, Buffer.concat(chunks).toString('utf8'));
    }
    let stopped = false;
    let settle: (e: Error | undefined) => void = () => {};
    const done = new Promise<Error | undefined>((resolve) => (settle = resolve));
    let buf = '';
    let failure: Error | undefined;
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buf += chunk;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        if (!line || stopped) continue;
        let ev: { type: string; object: KObject };
        try {
          ev = JSON.parse(line) as { type: string; object: KObject };
        } catch (e) {
          failure = e instanceof Error ? e : new Error(String(e));
          res.destroy();
          return;
        }
        if (ev.type === 'ERROR') {
          const st = ev.object as unknown as Partial<Status>;
          failure = statusErrorFrom(st.code ?? 500, JSON.stringify(st));
          res.destroy();
          return;
        }
        if (ev.type === 'BOOKMARK') {
          const rv = ev.object.metadata.resourceVersion;
          if (rv) opts.onBookmark?.(rv);
          continue;
        }
        onEvent(ev.type as WatchEventType, ev.object);
      }
    });
    res.on('close', () => settle(stopped ? undefined : failure));
    res.on('error', (e) => {
      if (!stopped) failure ??= e;
    });
    return {
      stop() {
        stopped = true;
        res.destroy();
      },
      done,
    };
  }
}
