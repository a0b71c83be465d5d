/**
 * A small container registry for e2e tests (OCI Distribution spec v2, pull side only): `/v2/`, image
 * manifests by tag or digest and blobs by digest, each with GET and HEAD, behind HTTP Basic auth
 * (401 with `WWW-Authenticate: Basic realm=…` when the credentials are missing or wrong). It serves
 * images exported from the host's Docker engine (`docker save`), repacked as OCI manifests, and logs
 * every request so a test can see what a node fetched and whether it was authorized. It listens on an
 * address the test gives (the cluster bridge's gateway: the host as the nodes see it), never on all
 * interfaces.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { extract } from 'tar-stream';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar';
const REALM = 'berth-test-registry';

/** One image as the registry serves it: its manifest and the blobs it references. */
export interface RegistryImage {
  manifest: Buffer;
  mediaType: string;
  digest: string;
  /** Config and layers, by digest. */
  blobs: Map<string, Buffer>;
}

export interface RegistryRequest {
  method: string;
  path: string;
  kind: 'base' | 'manifest' | 'blob' | 'other';
  /** The user whose credentials were accepted; undefined when unauthorized. */
  user?: string;
  status: number;
}

export interface TestRegistry {
  /** "address:port", the registry host part of image references. */
  host: string;
  port: number;
  /** Every request so far, oldest first. */
  readonly requests: RegistryRequest[];
  close(): Promise<void>;
}

const isGzip = (b: Buffer): boolean => b[0] === 0x1f && b[1] === 0x8b;
const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function tarFiles(stream: Readable): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const x = extract();
  stream.pipe(x);
  for await (const entry of x) {
    const chunks: Buffer[] = [];
    for await (const c of entry as AsyncIterable<Buffer>) chunks.push(c);
    if (entry.header.type === 'file') files.set(entry.header.name, Buffer.concat(chunks));
  }
  return files;
}

/**
 * Exports `ref` from the Docker engine (`docker save`) and repacks it as an OCI image manifest with
 * its config and layers. Reads the archive's manifest.json, which both the legacy and the OCI-layout
 * formats of `docker save` carry; layers keep their bytes (gzip ones get the +gzip media type).
 * `labels` are added to the image config: a new config digest, so a node that has the image already
 * (side-loaded) still fetches that blob.
 */
export async function imageFromDocker(
  docker: Docker,
  ref: string,
  opts: { labels?: Record<string, string> } = {},
): Promise<RegistryImage> {
  const files = await tarFiles((await docker.getImage(ref).get()) as unknown as Readable);
  const index = JSON.parse(files.get('manifest.json')?.toString('utf8') ?? '[]') as {
    Config?: string;
    RepoTags?: string[];
    Layers?: string[];
  }[];
  const entry = index.find((e) => e.RepoTags?.includes(ref)) ?? index[0];
  const file = (name: string | undefined): Buffer => {
    const b = name === undefined ? undefined : files.get(name);
    if (!b) throw new Error(`docker save ${ref}: ${name ?? 'manifest.json'} missing from the archive`);
    return b;
  };
  const blobs = new Map<string, Buffer>();
  const descriptor = (mediaType: string, b: Buffer): { mediaType: string; digest: string; size: number } => {
    const digest = sha256(b);
    blobs.set(digest, b);
    return { mediaType, digest, size: b.length };
  };
  let configBytes = file(entry?.Config);
  if (opts.labels) {
    const cfg = JSON.parse(configBytes.toString('utf8')) as { config?: { Labels?: Record<string, string> } };
    cfg.config = { ...cfg.config, Labels: { ...cfg.config?.Labels, ...opts.labels } };
    configBytes = Buffer.from(JSON.stringify(cfg));
  }
  const config = descriptor(OCI_CONFIG, configBytes);
  const layers = (entry?.Layers ?? []).map((l) => {
    const b = file(l);
    return descriptor(isGzip(b) ? `${OCI_LAYER}+gzip` : OCI_LAYER, b);
  });
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers }));
  return { manifest, mediaType: OCI_MANIFEST, digest: sha256(manifest), blobs };
}

function userOf(req: IncomingMessage, users: Record<string, string>): string | undefined {
  const m = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  if (!m?.[1]) return undefined;
  const plain = Buffer.from(m[1], 'base64').toString('utf8');
  const i = plain.indexOf(':');
  const [user, pass] = [plain.slice(0, i), plain.slice(i + 1)];
  return i > 0 && Object.hasOwn(users, user) && users[user] === pass ? user : undefined;
}

function sendError(res: ServerResponse, status: number, code: string, message: string): number {
  const body = JSON.stringify({ errors: [{ code, message, detail: null }] });
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
  return status;
}

function sendContent(
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  contentType: string,
  digest?: string,
): number {
  res.writeHead(200, {
    'Content-Type': contentType,
    'Content-Length': body.length,
    ...(digest ? { 'Docker-Content-Digest': digest } : {}),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
  return 200;
}

/**
 * Starts the registry on `address` (port 0: a free port). `images` maps "repository:tag" (e.g.
 * "berth/busybox:1.35") to an image; `users` maps user names to passwords.
 */
export async function startRegistry(opts: {
  address: string;
  users: Record<string, string>;
  images: Record<string, RegistryImage>;
}): Promise<TestRegistry> {
  const requests: RegistryRequest[] = [];
  const repos = new Map<string, { tags: Map<string, RegistryImage>; blobs: Map<string, Buffer> }>();
  for (const [ref, img] of Object.entries(opts.images)) {
    const i = ref.lastIndexOf(':');
    const name = ref.slice(0, i);
    const repo = repos.get(name) ?? { tags: new Map(), blobs: new Map() };
    repo.tags.set(ref.slice(i + 1), img);
    for (const [d, b] of img.blobs) repo.blobs.set(d, b);
    repos.set(name, repo);
  }

  const handle = (req: IncomingMessage, res: ServerResponse, log: RegistryRequest): number => {
    res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    const path = log.path;
    const route = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(path);
    log.kind =
      path === '/v2/' || path === '/v2'
        ? 'base'
        : route?.[2] === 'manifests'
          ? 'manifest'
          : route
            ? 'blob'
            : 'other';
    const user = userOf(req, opts.users);
    if (!user) {
      res.setHeader('WWW-Authenticate', `Basic realm="${REALM}"`);
      return sendError(res, 401, 'UNAUTHORIZED', 'authentication required');
    }
    log.user = user;
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return sendError(res, 405, 'UNSUPPORTED', 'this registry only serves pulls');
    if (log.kind === 'base') return sendContent(req, res, Buffer.from('{}'), 'application/json');
    const [, name = '', , reference = ''] = route ?? [];
    const repo = repos.get(name);
    if (!route || !repo) return sendError(res, 404, 'NAME_UNKNOWN', `repository ${name} not known`);
    if (log.kind === 'blob') {
      const blob = repo.blobs.get(reference);
      if (!blob) return sendError(res, 404, 'BLOB_UNKNOWN', `blob ${reference} unknown`);
      return sendContent(req, res, blob, 'application/octet-stream', reference);
    }
    const img = reference.startsWith('sha256:')
      ? [...repo.tags.values()].find((m) => m.digest === reference)
      : repo.tags.get(reference);
    if (!img) return sendError(res, 404, 'MANIFEST_UNKNOWN', `manifest ${reference} unknown`);
    return sendContent(req, res, img.manifest, img.mediaType, img.digest);
  };

  const server = createServer((req, res) => {
    const log: RegistryRequest = {
      method: req.method ?? '',
      path: new URL(req.url ?? '/', 'http://registry').pathname,
      kind: 'other',
      status: 0,
    };
    requests.push(log);
    try {
      log.status = handle(req, res, log);
    } catch (e) {
      log.status = sendError(res, 500, 'UNKNOWN', (e as Error).message);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, opts.address, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    host: `${opts.address}:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
