/**
 * The control channel of a running cluster (DESIGN.md §3: "every subcommand talks to the running
 * `berth up` of that data dir where it needs one"). `berth up` serves a small JSON API over HTTP on a
 * unix socket, `<dataDir>/control.sock` (mode 0600, in the 0700 data dir; on Windows a named pipe
 * `\\.\pipe\berth-<hash of the data dir>`, where file modes do not apply). Every request carries the
 * bearer token `berth up` writes to `<dataDir>/control.token` (0600) at each start, so only the user
 * owning the data dir can drive it, on either transport.
 *
 * Endpoints (errors: `{ "error": message }` with 400, 401, 404, 409, 501 or 500):
 * - GET    /v1/nodes                 → { nodes: ControlNode[] }
 * - POST   /v1/nodes   NodeAddRequest → 201 { node: ControlNode } (name defaults to the next
 *   `<cluster>-worker-<i>`)
 * - DELETE /v1/nodes/<name>          → { removed: name }
 * - POST   /v1/nodes/<name>/stop|start → { node: ControlNode }
 * - POST   /v1/images/load { images } → 200, then one JSON object per line: { progress } …, and last
 *   { done: true } or { error } (the load runs while the lines stream).
 * It acts only through the cluster's NodeDriver, so it serves every driver alike; mutations run one
 * at a time.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join, resolve } from 'node:path';
import type { KObject } from '../api/object.ts';
import { fieldErrorString } from '../api/field-errors.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';
import type { NodeDriver, NodeRecord, NodeTaintSpec } from '../nodes/driver.ts';
import { tryParseQuantity } from '../registry/core/quantity.ts';
import { validateLabels } from '../registry/validation/meta.ts';
import { isDNS1123Subdomain, isQualifiedName, isValidLabelValue } from '../registry/validation/names.ts';

/** Longest unix socket path the platforms accept (macOS: 104 bytes with the NUL; Linux 108). */
const MAX_SOCKET_PATH = 103;
const MAX_BODY = 64 * 1024;
const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;
const nodesRef: ResourceRef = { group: '', version: 'v1', resource: 'nodes' };

export interface ControlPaths {
  /** Unix socket path, or a Windows named pipe. */
  socket: string;
  token: string;
}

export function controlPaths(dataDir: string, platform: NodeJS.Platform = process.platform): ControlPaths {
  const dir = resolve(dataDir);
  const socket =
    platform === 'win32'
      ? `\\\\.\\pipe\\berth-${createHash('sha256').update(dir).digest('hex').slice(0, 16)}`
      : join(dir, 'control.sock');
  return { socket, token: join(dir, 'control.token') };
}

/** Why the control socket cannot be made for this data dir, if it cannot. */
export function socketPathProblem(paths: ControlPaths): string | undefined {
  if (paths.socket.startsWith('\\\\.\\pipe\\')) return undefined;
  const len = Buffer.byteLength(paths.socket);
  return len > MAX_SOCKET_PATH
    ? `the control socket path ${paths.socket} is ${len} bytes, longer than unix sockets allow (${MAX_SOCKET_PATH}); use a shorter --data-dir`
    : undefined;
}

export interface NodeAddRequest {
  name?: string;
  cpu?: string;
  memory?: string;
  labels?: Record<string, string>;
  taints?: NodeTaintSpec[];
}

/** A node as `berth node ls` shows it: the driver's record and the Node object's Ready condition. */
export interface ControlNode extends NodeRecord {
  /** The Node's Ready condition status ("True", "False", "Unknown"); absent before it registers. */
  ready?: string;
}

/** What the control server needs of a running cluster (a RunningCluster has it all). */
export interface ControlTarget {
  config: { name: string };
  driver?: NodeDriver;
  controllerClient: InProcessClient;
}

export interface ControlServer {
  paths: ControlPaths;
  close(): Promise<void>;
}

/** An error with the HTTP status the control API answers it with. */
export class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Problems with a node-add request, as messages (empty when it is valid). */
export function validateNodeAdd(req: NodeAddRequest): string[] {
  const errs: string[] = [];
  if (req.name !== undefined)
    for (const m of isDNS1123Subdomain(req.name)) errs.push(`invalid node name "${req.name}": ${m}`);
  for (const [what, v] of [
    ['cpu', req.cpu],
    ['memory', req.memory],
  ] as const) {
    if (v === undefined) continue;
    const q = typeof v === 'string' ? tryParseQuantity(v) : undefined;
    if (!q || q.nanos <= 0n) errs.push(`invalid ${what} "${String(v)}": must be a positive quantity`);
  }
  errs.push(...validateLabels(req.labels, 'labels').map(fieldErrorString));
  for (const t of req.taints ?? []) {
    const shown = `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`;
    for (const m of isQualifiedName(t.key ?? '')) errs.push(`invalid taint "${shown}": key: ${m}`);
    for (const m of isValidLabelValue(t.value ?? '')) errs.push(`invalid taint "${shown}": value: ${m}`);
    if (!(TAINT_EFFECTS as readonly string[]).includes(t.effect))
      errs.push(`invalid taint "${shown}": effect must be one of ${TAINT_EFFECTS.join(', ')}`);
  }
  return errs;
}

/** The next free `<cluster>-worker-<i>`: one past the highest such name in use. */
export function nextWorkerName(cluster: string, inUse: Iterable<string>): string {
  const prefix = `${cluster}-worker-`;
  let max = 0;
  for (const n of inUse)
    if (n.startsWith(prefix) && /^\d+$/.test(n.slice(prefix.length)))
      max = Math.max(max, Number(n.slice(prefix.length)));
  return `${prefix}${max + 1}`;
}

class ControlApi {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly target: ControlTarget) {}

  private get driver(): NodeDriver {
    const d = this.target.driver;
    if (!d)
      throw new ControlError(
        409,
        `cluster "${this.target.config.name}" runs without a node driver (started with --nodes 0 and no driver); restart it with \`berth up --driver …\``,
      );
    return d;
  }

  /** Runs mutations one at a time (two adds must not pick the same name). */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private nodeObjects(): Map<string, KObject> {
    const out = new Map<string, KObject>();
    for (const n of this.target.controllerClient.list(nodesRef, '', {}).items)
      out.set(n.metadata.name ?? '', n);
    return out;
  }

  private withReady(r: NodeRecord, objects = this.nodeObjects()): ControlNode {
    const conds = (
      (objects.get(r.name)?.['status'] ?? {}) as { conditions?: { type: string; status: string }[] }
    ).conditions;
    const ready = conds?.find((c) => c.type === 'Ready')?.status;
    return ready === undefined ? { ...r } : { ...r, ready };
  }

  private async known(name: string): Promise<NodeRecord> {
    const all = await this.driver.list();
    const r = all.find((n) => n.name === name);
    if (!r)
      throw new ControlError(
        404,
        `node "${name}" not found in cluster "${this.target.config.name}" (its nodes: ${all.map((n) => n.name).join(', ') || 'none'})`,
      );
    return r;
  }

  async list(): Promise<ControlNode[]> {
    const objects = this.nodeObjects();
    return (await this.driver.list())
      .map((r) => this.withReady(r, objects))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  add(req: NodeAddRequest): Promise<ControlNode> {
    const errs = validateNodeAdd(req);
    if (errs.length) return Promise.reject(new ControlError(400, errs.join('; ')));
    return this.exclusive(async () => {
      const inUse = new Set([...(await this.driver.list()).map((n) => n.name), ...this.nodeObjects().keys()]);
      const name = req.name ?? nextWorkerName(this.target.config.name, inUse);
      if (inUse.has(name)) throw new ControlError(409, `node "${name}" already exists`);
      const rec = await this.driver.create({
        name,
        ...(req.cpu !== undefined ? { cpu: req.cpu } : {}),
        ...(req.memory !== undefined ? { memory: req.memory } : {}),
        ...(req.labels ? { labels: req.labels } : {}),
        ...(req.taints?.length ? { taints: req.taints } : {}),
      });
      return this.withReady(rec);
    });
  }

  remove(name: string): Promise<string> {
    return this.exclusive(async () => {
      await this.known(name);
      await this.driver.remove(name);
      return name;
    });
  }

  setRunning(name: string, running: boolean): Promise<ControlNode> {
    return this.exclusive(async () => {
      await this.known(name);
      if (running) await this.driver.start(name);
      else await this.driver.stop(name);
      return this.withReady(await this.known(name));
    });
  }

  /** Checks a load can run (before the streamed answer starts), then returns it to run. */
  imageLoader(images: unknown): (progress: (line: string) => void) => Promise<void> {
    if (!Array.isArray(images) || !images.length || images.some((i) => typeof i !== 'string' || !i.trim()))
      throw new ControlError(400, 'images: give at least one image reference');
    const driver = this.driver;
    const load = driver.loadImages?.bind(driver);
    if (!load)
      throw new ControlError(
        501,
        driver.name === 'simulated'
          ? 'the simulated node driver runs no containers: there is nothing to load images into'
          : `the ${driver.name} node driver cannot load images`,
      );
    return (progress) => this.exclusive(() => load(images as string[], progress));
  }
}

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((res, rej) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        rej(new ControlError(400, 'request body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        res(text ? (JSON.parse(text) as unknown) : {});
      } catch {
        rej(new ControlError(400, 'request body is not JSON'));
      }
    });
    req.on('error', rej);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

async function route(api: ControlApi, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://berth').pathname;
  const m = /^\/v1\/nodes\/([^/]+)(?:\/(stop|start))?$/.exec(path);
  if (path === '/v1/nodes' && req.method === 'GET') return send(res, 200, { nodes: await api.list() });
  if (path === '/v1/nodes' && req.method === 'POST') {
    const node = await api.add((await readBody(req)) as NodeAddRequest);
    return send(res, 201, { node });
  }
  if (m && !m[2] && req.method === 'DELETE')
    return send(res, 200, { removed: await api.remove(decodeURIComponent(m[1] ?? '')) });
  if (m && m[2] && req.method === 'POST')
    return send(res, 200, { node: await api.setRunning(decodeURIComponent(m[1] ?? ''), m[2] === 'start') });
  if (path === '/v1/images/load' && req.method === 'POST') {
    const run = api.imageLoader(((await readBody(req)) as { images?: unknown }).images);
    res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
    const line = (o: unknown): void => void res.write(`${JSON.stringify(o)}\n`);
    try {
      await run((progress) => line({ progress }));
      line({ done: true });
    } catch (e) {
      line({ error: e instanceof Error ? e.message : String(e) });
    }
    res.end();
    return;
  }
  throw new ControlError(404, `no such control endpoint: ${req.method ?? ''} ${path}`);
}

/**
 * Serves the control channel of a running cluster on its data dir. The caller must hold the data
 * dir's pid lock (startCluster does), so a socket left there is stale and is removed.
 */
export async function startControlServer(dataDir: string, target: ControlTarget): Promise<ControlServer> {
  const paths = controlPaths(dataDir);
  const problem = socketPathProblem(paths);
  if (problem) throw new Error(problem);
  const token = randomBytes(32).toString('base64url');
  const api = new ControlApi(target);
  const server: Server = createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${token}`)
      return send(res, 401, { error: 'missing or wrong control token' });
    route(api, req, res).catch((e: unknown) => {
      const status = e instanceof ControlError ? e.status : 500;
      const error = e instanceof Error ? e.message : String(e);
      if (res.headersSent) res.end();
      else send(res, status, { error });
    });
  });
  if (!paths.socket.startsWith('\\\\')) rmSync(paths.socket, { force: true });
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(paths.socket, () => {
      server.off('error', rej);
      res();
    });
  });
  if (!paths.socket.startsWith('\\\\')) chmodSync(paths.socket, 0o600);
  rmSync(paths.token, { force: true });
  writeFileSync(paths.token, `${token}\n`, { mode: 0o600 });
  return {
    paths,
    async close() {
      rmSync(paths.token, { force: true });
      await new Promise<void>((res) => {
        server.close(() => res());
        server.closeAllConnections();
      });
      if (!paths.socket.startsWith('\\\\')) rmSync(paths.socket, { force: true });
    },
  };
}

/**
 * startControlServer for `berth up`: when the channel cannot be served (e.g. a socket path too long)
 * the cluster keeps running without it and the reason is printed.
 */
export async function serveControl(
  dataDir: string,
  target: ControlTarget,
  warn: (line: string) => void = console.error,
): Promise<Pick<ControlServer, 'close'>> {
  try {
    return await startControlServer(dataDir, target);
  } catch (e) {
    warn(
      `berth: warning: no control channel, so \`berth node …\` and \`berth image load\` cannot reach this cluster: ${e instanceof Error ? e.message : String(e)}`,
    );
    return { close: async () => {} };
  }
}
