/**
 * The kubelet's image manager (EnsureImageExists): imagePullPolicy (Always, IfNotPresent, Never; the
 * default Always for ":latest" or no tag, else IfNotPresent), ImageStatus before any pull, a per-pod
 * back-off after failed pulls (ErrImagePull, then ImagePullBackOff), credentials from the pod's
 * imagePullSecrets (kubernetes.io/dockerconfigjson or dockercfg), and the kubelet's events.
 */
import type { Container, LocalObjectReference } from 'kubernetes-types/core/v1';
import type { KObject } from '../../api/object.ts';
import type { CriClient } from '../cri/client.ts';
import type { CriAuthConfig, CriImage, CriPodSandboxConfig } from '../cri/types.ts';
import { podSpec } from '../pod/types.ts';
import { Backoff } from './backoff.ts';

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

/** The API server's defaulting of imagePullPolicy. */
export function defaultPullPolicy(image: string): PullPolicy {
  if (image.includes('@')) return 'IfNotPresent';
  const last = image.split('/').pop() ?? image;
  const tag = last.includes(':') ? last.slice(last.lastIndexOf(':') + 1) : '';
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

/** The registry host of an image reference ("docker.io" for short names). */
export function registryOf(image: string): string {
  const first = image.split('/')[0] ?? '';
  if (image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost'))
    return first;
  return 'docker.io';
}

/** "https://index.docker.io/v1/" (any Docker Hub host) → "docker.io"; "reg:5000/path" → "reg:5000". */
function normalizeRegistryKey(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//, '').split('/')[0] ?? '';
  return host.endsWith('.docker.io') ? 'docker.io' : host;
}

/**
 * The CRI AuthConfig.serverAddress for a registry host. containerd (1.6 and later) parses it as a URL
 * and gives the credentials only to the host whose name equals the URL's host, so it needs a scheme
 * ("reg:5000" alone does not parse). "docker.io" is a name, not the host containerd talks to: for it no
 * server address is sent, and containerd gives the credentials to that pull's registry host.
 */
export function criServerAddress(registry: string): string | undefined {
  return registry === 'docker.io' ? undefined : `https://${registry}`;
}

interface DockerAuth {
  username?: string;
  password?: string;
  auth?: string;
  identitytoken?: string;
  registrytoken?: string;
}

/** Credentials for `image` from docker config secrets (first match in secret order). */
export function authFromSecrets(image: string, secrets: KObject[]): CriAuthConfig | undefined {
  const want = registryOf(image);
  for (const s of secrets) {
    const data = (s['data'] ?? {}) as Record<string, string>;
    let auths: Record<string, DockerAuth> | undefined;
    try {
      if (data['.dockerconfigjson'])
        auths = (
          JSON.parse(Buffer.from(data['.dockerconfigjson'], 'base64').toString('utf8')) as {
            auths?: Record<string, DockerAuth>;
          }
        ).auths;
      else if (data['.dockercfg'])
        auths = JSON.parse(Buffer.from(data['.dockercfg'], 'base64').toString('utf8')) as Record<
          string,
          DockerAuth
        >;
    } catch {
      continue;
    }
    for (const [key, a] of Object.entries(auths ?? {})) {
      if (normalizeRegistryKey(key) !== want) continue;
      let { username, password } = a;
      if ((!username || !password) && a.auth) {
        const plain = Buffer.from(a.auth, 'base64').toString('utf8');
        const i = plain.indexOf(':');
        if (i > 0) {
          username = plain.slice(0, i);
          password = plain.slice(i + 1);
        }
      }
      const serverAddress = criServerAddress(want);
      return {
        ...(serverAddress ? { serverAddress } : {}),
        ...(username ? { username } : {}),
        ...(password ? { password } : {}),
        ...(a.identitytoken ? { identityToken: a.identitytoken } : {}),
        ...(a.registrytoken ? { registryToken: a.registrytoken } : {}),
      };
    }
  }
  return undefined;
}

export type ImageResult =
  | { ok: true; imageRef: string; image?: CriImage }
  | {
      ok: false;
      reason: 'ErrImagePull' | 'ImagePullBackOff' | 'ErrImageNeverPull' | 'InvalidImageName';
      message: string;
    };

export interface ImageEvents {
  (type: 'Normal' | 'Warning', reason: string, message: string): void;
}

export class ImageManager {
  private readonly backoff = new Backoff();

  constructor(
    private readonly cri: CriClient,
    private readonly getSecret: (ns: string, name: string) => Promise<KObject | undefined>,
  ) {}

  /** Makes sure the container's image is on the node; reports what the kubelet reports. */
  async ensure(
    pod: KObject,
    container: Container,
    sandbox: CriPodSandboxConfig,
    event: ImageEvents,
  ): Promise<ImageResult> {
    const image = container.image ?? '';
    if (!image) return { ok: false, reason: 'InvalidImageName', message: 'image is empty' };
    const policy = (container.imagePullPolicy as PullPolicy | undefined) ?? defaultPullPolicy(image);
    const present = await this.cri.imageStatus({ image });
    if (present && policy !== 'Always') {
      event('Normal', 'Pulled', `Container image "${image}" already present on machine`);
      return { ok: true, imageRef: present.id, image: present };
    }
    if (policy === 'Never') {
      const message = `Container image "${image}" is not present with pull policy of Never`;
      event('Warning', 'ErrImageNeverPull', message);
      return { ok: false, reason: 'ErrImageNeverPull', message };
    }
    const key = `${pod.metadata.uid ?? ''}/${image}`;
    if (this.backoff.inBackoffSince(key, this.lastFailure.get(key) ?? 0)) {
      const message = `Back-off pulling image "${image}"`;
      event('Normal', 'BackOff', message);
      return { ok: false, reason: 'ImagePullBackOff', message };
    }
    event('Normal', 'Pulling', `Pulling image "${image}"`);
    const t0 = Date.now();
    try {
      const auth = await this.auth(pod, image);
      const imageRef = await this.cri.pullImage({ image }, auth, sandbox);
      const took = ((Date.now() - t0) / 1000).toFixed(3);
      event(
        'Normal',
        'Pulled',
        `Successfully pulled image "${image}" in ${took}s (${took}s including waiting)`,
      );
      this.backoff.reset(key);
      this.lastFailure.delete(key);
      return { ok: true, imageRef, ...(await this.statusOf(image)) };
    } catch (e) {
      const now = Date.now();
      this.backoff.next(key, now);
      this.lastFailure.set(key, now);
      const detail = e instanceof Error ? e.message.replace(/^CRI PullImage: \w+: /, '') : String(e);
      const message = detail;
      event('Warning', 'Failed', `Failed to pull image "${image}": ${detail}`);
      event('Warning', 'Failed', 'Error: ErrImagePull');
      return { ok: false, reason: 'ErrImagePull', message };
    }
  }

  private readonly lastFailure = new Map<string, number>();

  private async statusOf(image: string): Promise<{ image?: CriImage }> {
    const s = await this.cri.imageStatus({ image });
    return s ? { image: s } : {};
  }

  private async auth(pod: KObject, image: string): Promise<CriAuthConfig | undefined> {
    const refs: LocalObjectReference[] = podSpec(pod).imagePullSecrets ?? [];
    if (refs.length === 0) return undefined;
    const ns = pod.metadata.namespace ?? 'default';
    const secrets: KObject[] = [];
    for (const r of refs) {
      if (!r.name) continue;
      const s = await this.getSecret(ns, r.name);
      if (s) secrets.push(s);
    }
    return authFromSecrets(image, secrets);
  }

  /** Drops the back-off state of a pod that is gone. */
  forgetPod(uid: string): void {
    this.backoff.forgetPrefix(`${uid}/`);
    for (const k of [...this.lastFailure.keys()]) if (k.startsWith(`${uid}/`)) this.lastFailure.delete(k);
  }
}
