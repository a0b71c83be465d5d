/**
 * Node-image building and caching for the Docker node driver. The node image is built once from
 * vm-images/ and reused, tagged by a hash of the build context's content; the busybox test image the
 * same way (its hash in a label, under a stable tag pods can name). Where the Dockerfile's base image
 * is missing and this machine can make it (Linux, root, debootstrap), vm-images/bootstrap-base.sh
 * makes it from the Debian mirror apt uses; otherwise `docker build` pulls it as usual.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { bundleAgent } from './agent-bundle.ts';

export const LABEL_PREFIX = 'dev.berth';
export const CONTENT_HASH_LABEL = `${LABEL_PREFIX}.content-hash`;
export const BASE_IMAGE = 'debian:bookworm-slim';
export const NODE_IMAGE_REPO = 'localhost/berth/node';
export const BUSYBOX_IMAGE = 'localhost/berth/busybox:1.35';
/** A Debian image with curl, for tests of in-cluster API clients over TLS. */
export const CURL_IMAGE = 'localhost/berth/curl:8';
/** The CRI sandbox image inside every node (baked into the node image). */
export const PAUSE_IMAGE = 'localhost/berth/pause:3.9';

export const defaultImagesDir = (): string => fileURLToPath(new URL('../../../vm-images/', import.meta.url));

export type ProgressFn = (line: string) => void;

/** Files of a build context: every file under dir (recursively unless `flat`), minus *.md. */
export function contextFiles(dir: string, flat = false): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) {
        if (!flat) walk(p);
      } else if (!name.endsWith('.md')) out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out;
}

/** sha256 over the context's paths, exec bits and contents, and generated files (first 16 hex digits). */
export function contentHash(dir: string, files: string[], generated: Record<string, string> = {}): string {
  const h = createHash('sha256');
  for (const f of files) {
    const p = join(dir, f);
    h.update(`${f}\0${statSync(p).mode & 0o111 ? 'x' : '-'}\0`);
    h.update(readFileSync(p));
    h.update('\0');
  }
  for (const [f, text] of Object.entries(generated).sort(([a], [b]) => a.localeCompare(b)))
    h.update(`${f}\0-\0${text}\0`);
  return h.digest('hex').slice(0, 16);
}

export interface ImageSpec {
  /** Tag to build. */
  tag: string;
  /** Build context directory. */
  context: string;
  files: string[];
  hash: string;
  /** Files made at build time (name → content), added to the context next to `files`. */
  generated?: Record<string, string>;
}

/** The node agent's bundle in the node image's build context (the Dockerfile copies it). */
export const AGENT_BUNDLE_FILE = 'berth-agent.mjs';

/**
 * The node image: vm-images/ top-level files (subdirectories hold other images) plus the agent bundle
 * (made now unless given), so a change to either gives a new tag.
 */
export async function nodeImageSpec(
  imagesDir = defaultImagesDir(),
  agentBundle?: string,
): Promise<ImageSpec> {
  const files = contextFiles(imagesDir, true);
  const generated = { [AGENT_BUNDLE_FILE]: agentBundle ?? (await bundleAgent()) };
  const hash = contentHash(imagesDir, files, generated);
  return { tag: `${NODE_IMAGE_REPO}:${hash}`, context: imagesDir, files, hash, generated };
}

/** A build context directory for spec: its own when nothing is generated, else a staged copy. */
function stageContext(spec: ImageSpec): { dir: string; files: string[]; cleanup(): void } {
  if (!spec.generated || !Object.keys(spec.generated).length)
    return { dir: spec.context, files: spec.files, cleanup: () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'berth-image-context-'));
  for (const f of spec.files) {
    copyFileSync(join(spec.context, f), join(dir, f));
    chmodSync(join(dir, f), statSync(join(spec.context, f)).mode & 0o777);
  }
  for (const [f, text] of Object.entries(spec.generated)) writeFileSync(join(dir, f), text);
  return {
    dir,
    files: [...spec.files, ...Object.keys(spec.generated)],
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A test image built from vm-images/<dir>, under a stable tag (its content hash in a label). */
function testImageSpec(imagesDir: string, dir: string, tag: string): ImageSpec {
  const context = join(imagesDir, dir);
  const files = contextFiles(context);
  return { tag, context, files, hash: contentHash(context, files) };
}

export const busyboxImageSpec = (imagesDir = defaultImagesDir()): ImageSpec =>
  testImageSpec(imagesDir, 'busybox', BUSYBOX_IMAGE);
export const curlImageSpec = (imagesDir = defaultImagesDir()): ImageSpec =>
  testImageSpec(imagesDir, 'curl', CURL_IMAGE);

export async function imageLabels(docker: Docker, ref: string): Promise<Record<string, string> | undefined> {
  try {
    const info = await docker.getImage(ref).inspect();
    return info.Config?.Labels ?? {};
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return undefined;
    throw e;
  }
}

/** Whether this machine can make the base image itself (bootstrap-base.sh's needs). */
export function canBootstrapBase(): { ok: boolean; why?: string } {
  if (process.platform !== 'linux') return { ok: false, why: 'not Linux' };
  if (process.getuid?.() !== 0) return { ok: false, why: 'not running as root' };
  const r = spawnSync('sh', ['-c', 'command -v debootstrap'], { encoding: 'utf8' });
  if (r.status !== 0) return { ok: false, why: 'debootstrap is not installed' };
  return { ok: true };
}

/** Makes BASE_IMAGE with vm-images/bootstrap-base.sh when it is missing and this machine can. */
export async function ensureBaseImage(
  docker: Docker,
  imagesDir = defaultImagesDir(),
  progress: ProgressFn = () => {},
): Promise<'present' | 'bootstrapped' | 'pull'> {
  if (await imageLabels(docker, BASE_IMAGE)) return 'present';
  const can = canBootstrapBase();
  if (!can.ok) {
    progress(`base image ${BASE_IMAGE} missing; ${can.why}: docker build will pull it`);
    return 'pull';
  }
  progress(`base image ${BASE_IMAGE} missing: making it with debootstrap`);
  await new Promise<void>((resolve, reject) => {
    const child = spawn(join(imagesDir, 'bootstrap-base.sh'), [BASE_IMAGE], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stdout.on('data', (d: Buffer) => d.toString().split('\n').filter(Boolean).forEach(progress));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      d.toString().split('\n').filter(Boolean).forEach(progress);
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`bootstrap-base.sh failed (exit ${code}): ${err.trim()}`)),
    );
  });
  return 'bootstrapped';
}

interface BuildMessage {
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/** Builds spec.tag unless an image with that tag and content hash exists. Returns whether it built. */
export async function ensureImage(
  docker: Docker,
  spec: ImageSpec,
  progress: ProgressFn = () => {},
): Promise<boolean> {
  const labels = await imageLabels(docker, spec.tag);
  if (labels && labels[CONTENT_HASH_LABEL] === spec.hash) return false;
  if (!existsSync(join(spec.context, 'Dockerfile'))) throw new Error(`no Dockerfile in ${spec.context}`);
  progress(`building ${spec.tag}`);
  const ctx = stageContext(spec);
  try {
    await buildFrom(docker, spec, ctx.dir, ctx.files, progress);
  } finally {
    ctx.cleanup();
  }
  return true;
}

async function buildFrom(
  docker: Docker,
  spec: ImageSpec,
  context: string,
  src: string[],
  progress: ProgressFn,
): Promise<void> {
  const stream = await docker.buildImage(
    { context, src },
    { t: spec.tag, labels: { [CONTENT_HASH_LABEL]: spec.hash }, rm: true, forcerm: true },
  );
  await new Promise<void>((resolve, reject) => {
    let failure: string | undefined;
    docker.modem.followProgress(
      stream,
      (err: Error | null) => (err ? reject(err) : failure ? reject(new Error(failure)) : resolve()),
      (m: BuildMessage) => {
        if (m.error) failure = `building ${spec.tag} failed: ${m.errorDetail?.message ?? m.error}`;
        const line = (m.stream ?? m.status ?? '').trimEnd();
        if (line && /^(Step \d+\/\d+|Successfully)/.test(line))
          progress(line.length > 120 ? `${line.slice(0, 117)}...` : line);
      },
    );
  });
}

export interface EnsuredImages {
  node: string;
  busybox: string;
  /** What had to be done: base made, images built. */
  baseImage: 'present' | 'bootstrapped' | 'pull';
  built: string[];
}

/** Makes sure the node image and the busybox test image exist (building what is missing). */
export async function ensureNodeImages(
  docker: Docker,
  opts: { imagesDir?: string; progress?: ProgressFn; busybox?: boolean } = {},
): Promise<EnsuredImages> {
  const dir = opts.imagesDir ?? defaultImagesDir();
  const progress = opts.progress ?? (() => {});
  const node = await nodeImageSpec(dir);
  const busybox = busyboxImageSpec(dir);
  const need = [node, ...(opts.busybox === false ? [] : [busybox, curlImageSpec(dir)])];
  let baseImage: EnsuredImages['baseImage'] = 'present';
  const missing: ImageSpec[] = [];
  for (const s of need) {
    const labels = await imageLabels(docker, s.tag);
    if (!labels || labels[CONTENT_HASH_LABEL] !== s.hash) missing.push(s);
  }
  if (missing.length) baseImage = await ensureBaseImage(docker, dir, progress);
  const built: string[] = [];
  for (const s of missing) if (await ensureImage(docker, s, progress)) built.push(s.tag);
  return { node: node.tag, busybox: busybox.tag, baseImage, built };
}
