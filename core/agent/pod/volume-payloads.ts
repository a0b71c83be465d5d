/**
 * The file contents of configMap, secret, downwardAPI and projected volumes (the kubelet plugins'
 * MakePayload / CollectData), written by atomic-writer.ts.
 */
import type {
  ConfigMapProjection,
  DownwardAPIVolumeFile,
  KeyToPath,
  SecretProjection,
  VolumeProjection,
} from 'kubernetes-types/core/v1';
import type { KObject } from '../../api/object.ts';
import type { FileProjection, Payload } from './atomic-writer.ts';
import { configMapData, secretData, type ObjectSource } from './env.ts';
import { type Allocatable, podFieldValue, resourceFieldValue } from './fieldpath.ts';
import { podNamespace, podSpec } from './types.ts';

export const DEFAULT_MODE = 0o644;

/** Issues a bound service account token (TokenRequest); audience "" means the API server's default. */
export type TokenRequester = (
  ns: string,
  serviceAccount: string,
  audience: string,
  expirationSeconds: number,
) => Promise<string>;

export interface PayloadContext extends ObjectSource {
  allocatable?: Allocatable;
  requestToken?: TokenRequester;
  /** Tokens already issued for this pod (kept until 80 % of their lifetime): key → token. */
  tokenCache?: Map<string, { token: string; refreshAt: number }>;
  /** fsGroup is set: service account tokens get 0600 and ownership makes them group-readable. */
  fsGroupSet?: boolean;
}

function text(data: string): Buffer {
  return Buffer.from(data, 'utf8');
}

/** Keys (all, or the items' key → path) of a configMap/secret's data. */
function keyPayload(
  kind: 'configmap' | 'secret',
  data: Record<string, string> | undefined,
  items: KeyToPath[] | undefined,
  defaultMode: number,
  optional: boolean,
): Payload {
  const out: Payload = new Map();
  const d = data ?? {};
  if (!items?.length) {
    for (const [k, v] of Object.entries(d)) out.set(k, { data: text(v), mode: defaultMode });
    return out;
  }
  for (const it of items) {
    if (!Object.prototype.hasOwnProperty.call(d, it.key)) {
      if (optional) continue;
      throw new Error(
        `${kind} references non-existent ${kind === 'secret' ? 'secret' : 'config'} key: ${it.key}`,
      );
    }
    out.set(it.path, { data: text(d[it.key] ?? ''), mode: it.mode ?? defaultMode });
  }
  return out;
}

/**
 * A configMap or secret volume's (or projection's) payload; a missing optional object gives an empty one
 * (the kubelet's error for a missing one: `configmap "x" not found` / `secret "x" not found`).
 */
export async function keyedPayload(
  kind: 'configmap' | 'secret',
  pod: KObject,
  src: ConfigMapProjection | SecretProjection,
  defaultMode: number,
  ctx: PayloadContext,
): Promise<Payload> {
  const name = src.name ?? '';
  const ns = podNamespace(pod);
  const obj = kind === 'secret' ? await ctx.getSecret(ns, name) : await ctx.getConfigMap(ns, name);
  if (!obj && !src.optional) throw new Error(`${kind} "${name}" not found`);
  const data = obj ? (kind === 'secret' ? secretData(obj) : configMapData(obj)) : undefined;
  return keyPayload(kind, data, src.items, defaultMode, !!src.optional);
}

/** Collapses "a//b/./c" as filepath.Clean does for relative paths. */
function cleanPath(p: string): string {
  return p
    .split('/')
    .filter((x) => x !== '' && x !== '.')
    .join('/');
}

/** downwardapi.CollectData: metadata fields and container resources as files. */
export function downwardAPIPayload(
  pod: KObject,
  items: DownwardAPIVolumeFile[] | undefined,
  defaultMode: number,
  ctx: PayloadContext,
): Payload {
  const out: Payload = new Map();
  const errs: string[] = [];
  const info = { nodeName: podSpec(pod).nodeName ?? '', hostIP: '', podIP: '', podIPs: [] };
  for (const it of items ?? []) {
    let value = '';
    try {
      if (it.fieldRef) value = podFieldValue(pod, it.fieldRef, info);
      else if (it.resourceFieldRef)
        value = resourceFieldValue(pod, undefined, it.resourceFieldRef, ctx.allocatable);
    } catch (e) {
      errs.push((e as Error).message);
      continue;
    }
    out.set(cleanPath(it.path), { data: text(value), mode: it.mode ?? defaultMode });
  }
  if (errs.length) throw new Error(errs.length === 1 ? (errs[0] ?? '') : `[${errs.join(', ')}]`);
  return out;
}

/** A service account token for a projection, from the cache while younger than 80 % of its lifetime. */
async function tokenFile(
  pod: KObject,
  src: NonNullable<VolumeProjection['serviceAccountToken']>,
  ctx: PayloadContext,
): Promise<string> {
  if (!ctx.requestToken)
    throw new Error('service account token projection needs a token requester on this node');
  const sa = podSpec(pod).serviceAccountName || 'default';
  const exp = src.expirationSeconds ?? 3600;
  const key = `${sa}\u0000${src.audience ?? ''}\u0000${exp}`;
  const hit = ctx.tokenCache?.get(key);
  if (hit && Date.now() < hit.refreshAt) return hit.token;
  const token = await ctx.requestToken(podNamespace(pod), sa, src.audience ?? '', exp);
  ctx.tokenCache?.set(key, { token, refreshAt: Date.now() + exp * 800 });
  return token;
}

/** A projected volume's payload: its sources merged in order (later paths win). */
export async function projectedPayload(
  pod: KObject,
  sources: VolumeProjection[] | undefined,
  defaultMode: number,
  ctx: PayloadContext,
): Promise<Payload> {
  const out: Payload = new Map();
  const add = (p: Payload): void => {
    for (const [k, v] of p) out.set(k, v);
  };
  for (const s of sources ?? []) {
    if (s.secret) add(await keyedPayload('secret', pod, s.secret, defaultMode, ctx));
    else if (s.configMap) add(await keyedPayload('configmap', pod, s.configMap, defaultMode, ctx));
    else if (s.downwardAPI) add(downwardAPIPayload(pod, s.downwardAPI.items, defaultMode, ctx));
    else if (s.serviceAccountToken) {
      const f: FileProjection = {
        data: text(await tokenFile(pod, s.serviceAccountToken, ctx)),
        mode: ctx.fsGroupSet ? 0o600 : defaultMode,
      };
      out.set(s.serviceAccountToken.path, f);
    } else if ((s as Record<string, unknown>)['clusterTrustBundle'])
      throw new Error('clusterTrustBundle projections are not supported');
  }
  return out;
}
