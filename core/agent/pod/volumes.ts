/**
 * Pod volumes on the node (the kubelet's volume manager, for the in-tree plugins Berth supports):
 * directories under <rootDir>/pods/<uid>/volumes/<plugin>/<name> (plugin names escaped as the kubelet
 * does, e.g. kubernetes.io~empty-dir), hostPath and PersistentVolume paths used in place, and the CRI
 * mounts of one container (volume-mounts.ts).
 */
import { chmodSync, lchownSync, lstatSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { PersistentVolumeClaim, PersistentVolumeSpec, Volume } from 'kubernetes-types/core/v1';
import type { KObject } from '../../api/object.ts';
import { tryParseQuantity } from '../../registry/core/quantity.ts';
import { type Payload, writeAtomic } from './atomic-writer.ts';
import type { ObjectSource } from './env.ts';
import type { Allocatable } from './fieldpath.ts';
import { checkHostPathType } from './hostpath.ts';
import { mountTmpfs, unmountIfMounted } from './mount-util.ts';
import {
  DEFAULT_MODE,
  downwardAPIPayload,
  keyedPayload,
  type PayloadContext,
  projectedPayload,
  type TokenRequester,
} from './volume-payloads.ts';
import { podNamespace, podSpec, podUid } from './types.ts';

export { containerMounts } from './volume-mounts.ts';

export interface VolumeHost extends ObjectSource {
  /** Pod dirs live in <rootDir>/pods/<uid>/volumes/<plugin>/<name>. */
  rootDir: string;
  getPersistentVolumeClaim(ns: string, name: string): Promise<KObject | undefined>;
  getPersistentVolume(name: string): Promise<KObject | undefined>;
  nodeName: string;
  hostIP: string;
  /** TokenRequest for serviceAccountToken projections. */
  requestToken?: TokenRequester;
  /** Node allocatable: downward API limits and the default size of memory-backed emptyDirs. */
  allocatable?: Allocatable;
}

export interface PreparedVolume {
  hostPath: string;
  readOnly: boolean;
  /** The volume's plugin (emptyDir, configMap, secret, downwardAPI, projected, hostPath, persistentVolumeClaim). */
  kind?: string;
}

/** A volume cannot be set up (→ event FailedMount, the pod stays ContainerCreating). */
export class VolumeError extends Error {
  override name = 'VolumeError';
  constructor(
    message: string,
    readonly volume?: string,
  ) {
    super(message);
  }
}

/** Plugin directory names (the kubelet's escaped plugin names). */
const PLUGIN_DIRS: Record<string, string> = {
  emptyDir: 'kubernetes.io~empty-dir',
  configMap: 'kubernetes.io~configmap',
  secret: 'kubernetes.io~secret',
  downwardAPI: 'kubernetes.io~downward-api',
  projected: 'kubernetes.io~projected',
};

export function podDir(rootDir: string, uid: string): string {
  return join(rootDir, 'pods', uid);
}

export function volumeDir(rootDir: string, uid: string, kind: string, name: string): string {
  return join(podDir(rootDir, uid), 'volumes', PLUGIN_DIRS[kind] ?? kind, name);
}

/** Service account tokens issued per pod (refreshVolumes reuses them until 80 % of their lifetime). */
const tokenCaches = new Map<string, Map<string, { token: string; refreshAt: number }>>();

function fsGroupOf(pod: KObject): number | undefined {
  return podSpec(pod).securityContext?.fsGroup;
}

/**
 * SetVolumeOwnership for one path: group fsGroup, group read(+write) bits, setgid and x on directories.
 * Symlinks only change owner.
 */
function fsGroupOwner(gid: number, readOnly: boolean): (path: string, isDir: boolean) => void {
  return (path, isDir) => {
    lchownSync(path, -1, gid);
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return;
    let mask = readOnly ? 0o440 : 0o660;
    if (isDir) mask |= 0o2000 | 0o110;
    chmodSync(path, (st.mode & 0o7777) | mask);
  };
}

/** Applies fsGroup ownership to a whole tree (emptyDir, PVC volumes); OnRootMismatch skips a matching root. */
function applyFsGroupTree(dir: string, gid: number, policy: string | undefined): void {
  const st = statSync(dir);
  if (policy === 'OnRootMismatch' && st.gid === gid && (st.mode & 0o2000) !== 0) return;
  const own = fsGroupOwner(gid, false);
  const walk = (p: string, isDir: boolean): void => {
    own(p, isDir);
    if (!isDir) return;
    for (const n of readdirSync(p)) {
      const c = join(p, n);
      walk(c, lstatSync(c).isDirectory());
    }
  };
  walk(dir, true);
}

function bytesOf(q: unknown): number | undefined {
  if (q === undefined || q === null) return undefined;
  const n = tryParseQuantity(String(q))?.nanos;
  return n === undefined || n <= 0n ? undefined : Number((n + 999_999_999n) / 1_000_000_000n);
}

/**
 * calculateEmptyDirMemorySize: the sizeLimit when below the pod's memory limit, else the pod's memory
 * limit (sum of its containers' when all set), else the node's allocatable memory.
 */
export function emptyDirMemorySize(
  pod: KObject,
  sizeLimit: unknown,
  allocatable?: Allocatable,
): number | undefined {
  const containers = podSpec(pod).containers;
  let podLimit: number | undefined = 0;
  for (const c of containers) {
    const l = bytesOf(c.resources?.limits?.['memory']);
    podLimit = l === undefined || podLimit === undefined ? undefined : podLimit + l;
  }
  if (!containers.length) podLimit = undefined;
  const cap = podLimit ?? bytesOf(allocatable?.['memory']);
  const size = bytesOf(sizeLimit);
  if (size !== undefined && (cap === undefined || size < cap)) return size;
  return cap;
}

function payloadContext(pod: KObject, host: VolumeHost): PayloadContext {
  const uid = podUid(pod);
  let cache = tokenCaches.get(uid);
  if (!cache) tokenCaches.set(uid, (cache = new Map()));
  return {
    getSecret: (ns, n) => host.getSecret(ns, n),
    getConfigMap: (ns, n) => host.getConfigMap(ns, n),
    allocatable: host.allocatable,
    requestToken: host.requestToken,
    tokenCache: cache,
    fsGroupSet: fsGroupOf(pod) !== undefined,
  };
}

/** The payload of an atomic-writer volume, or undefined for other kinds. */
async function atomicPayload(pod: KObject, v: Volume, ctx: PayloadContext): Promise<Payload | undefined> {
  if (v.configMap)
    return keyedPayload('configmap', pod, v.configMap, v.configMap.defaultMode ?? DEFAULT_MODE, ctx);
  if (v.secret)
    return keyedPayload(
      'secret',
      pod,
      { name: v.secret.secretName, items: v.secret.items, optional: v.secret.optional },
      v.secret.defaultMode ?? DEFAULT_MODE,
      ctx,
    );
  if (v.downwardAPI)
    return downwardAPIPayload(pod, v.downwardAPI.items, v.downwardAPI.defaultMode ?? DEFAULT_MODE, ctx);
  if (v.projected)
    return projectedPayload(pod, v.projected.sources, v.projected.defaultMode ?? DEFAULT_MODE, ctx);
  return undefined;
}

function volumeKind(v: Volume): string {
  for (const k of [
    'emptyDir',
    'configMap',
    'secret',
    'downwardAPI',
    'projected',
    'hostPath',
    'persistentVolumeClaim',
  ])
    if ((v as unknown as Record<string, unknown>)[k]) return k;
  const other = Object.keys(v).find((k) => k !== 'name');
  throw new Error(`volume type ${other ?? '(none)'} is not supported by this node`);
}

/**
 * The PersistentVolume path behind a claim (hostPath with its type check, or local); `owned` when the
 * plugin applies fsGroup ownership (local does, hostPath does not).
 */
async function claimPath(
  pod: KObject,
  claimName: string,
  host: VolumeHost,
): Promise<{ path: string; owned: boolean }> {
  const ns = podNamespace(pod);
  const prefix = `error processing PVC ${ns}/${claimName}`;
  const pvc = (await host.getPersistentVolumeClaim(ns, claimName)) as unknown as
    PersistentVolumeClaim | undefined;
  if (!pvc)
    throw new Error(
      `${prefix}: failed to fetch PVC from API server: persistentvolumeclaims "${claimName}" not found`,
    );
  if (pvc.metadata?.deletionTimestamp) throw new Error(`${prefix}: PVC is being deleted`);
  if (pvc.status?.phase !== 'Bound') throw new Error(`${prefix}: PVC is not bound`);
  const pvName = pvc.spec?.volumeName;
  if (!pvName) throw new Error(`${prefix}: PVC has empty pvc.Spec.VolumeName`);
  const pv = await host.getPersistentVolume(pvName);
  if (!pv)
    throw new Error(
      `${prefix}: failed to fetch PV ${pvName} from API server: persistentvolumes "${pvName}" not found`,
    );
  const spec = (pv['spec'] ?? {}) as PersistentVolumeSpec;
  if (!spec.claimRef)
    throw new Error(
      `${prefix}: found PV object ${pvName} but it has a nil pv.Spec.ClaimRef indicating it is not yet bound to the claim`,
    );
  if (spec.claimRef.uid !== pvc.metadata?.uid)
    throw new Error(
      `${prefix}: found PV object ${pvName} but its pv.Spec.ClaimRef.UID ${spec.claimRef.uid ?? ''} does not point to claim.UID ${pvc.metadata?.uid ?? ''}`,
    );
  if (spec.hostPath) {
    checkHostPathType(spec.hostPath.path, spec.hostPath.type);
    return { path: spec.hostPath.path, owned: false };
  }
  if (spec.local) {
    try {
      statSync(spec.local.path);
    } catch {
      throw new Error(`path "${spec.local.path}" does not exist`);
    }
    return { path: spec.local.path, owned: true };
  }
  throw new Error(
    `PersistentVolume ${pvName} has a volume source this node cannot mount (only hostPath and local)`,
  );
}

/** Sets up one volume; returns where it lives on the node. */
async function setupVolume(
  pod: KObject,
  v: Volume,
  host: VolumeHost,
  ctx: PayloadContext,
): Promise<PreparedVolume> {
  const kind = volumeKind(v);
  const uid = podUid(pod);
  const gid = fsGroupOf(pod);
  const policy = podSpec(pod).securityContext?.fsGroupChangePolicy;
  if (kind === 'hostPath') {
    checkHostPathType(v.hostPath!.path, v.hostPath!.type);
    return { hostPath: v.hostPath!.path, readOnly: false, kind };
  }
  if (kind === 'persistentVolumeClaim') {
    const { path, owned } = await claimPath(pod, v.persistentVolumeClaim!.claimName, host);
    const readOnly = v.persistentVolumeClaim!.readOnly ?? false;
    if (gid !== undefined && owned && !readOnly) applyFsGroupTree(path, gid, policy);
    return { hostPath: path, readOnly, kind };
  }
  const dir = volumeDir(host.rootDir, uid, kind, v.name);
  const fresh = !existsDir(dir);
  mkdirSync(dir, { recursive: true, mode: 0o750 });
  if (kind === 'emptyDir') {
    const medium = v.emptyDir?.medium ?? '';
    if (medium === 'Memory')
      await mountTmpfs(dir, emptyDirMemorySize(pod, v.emptyDir?.sizeLimit, host.allocatable));
    else if (medium !== '') throw new Error(`emptyDir medium ${medium} is not supported by this node`);
    worldWritable(dir);
    if (gid !== undefined && fresh) applyFsGroupTree(dir, gid, policy);
    return { hostPath: dir, readOnly: false, kind };
  }
  // Secrets never touch the node's disk (the kubelet wraps them in a memory-backed emptyDir).
  if (kind === 'secret') await mountTmpfs(dir);
  // configMap, secret, downwardAPI and projected volumes sit in a wrapped emptyDir: a 0777 root, so a
  // container that does not run as root can list them.
  worldWritable(dir);
  const payload = await atomicPayload(pod, v, ctx);
  writeAtomic(dir, payload ?? new Map(), gid !== undefined ? fsGroupOwner(gid, true) : undefined);
  return { hostPath: dir, readOnly: true, kind };
}

/**
 * The emptyDir plugin's setupDir: permission bits 0777, changed only when they differ (a tmpfs root's
 * 1777 keeps its sticky bit).
 */
function worldWritable(dir: string): void {
  const mode = statSync(dir).mode;
  if ((mode & 0o777) !== 0o777) chmodSync(dir, (mode & 0o7000) | 0o777);
}

function existsDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function wrap(v: Volume, e: unknown): VolumeError {
  if (e instanceof VolumeError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new VolumeError(`MountVolume.SetUp failed for volume ${JSON.stringify(v.name)} : ${msg}`, v.name);
}

/**
 * Creates every volume of the pod on this node (emptyDir dir or tmpfs for medium Memory, configMap,
 * secret (tmpfs), downwardAPI, projected, hostPath (with type checks), PVC → its PV's hostPath/local
 * path). Throws VolumeError (→ event FailedMount + pod stays ContainerCreating). Safe to call again.
 */
export async function setupVolumes(pod: KObject, host: VolumeHost): Promise<Map<string, PreparedVolume>> {
  const out = new Map<string, PreparedVolume>();
  const ctx = payloadContext(pod, host);
  for (const v of podSpec(pod).volumes ?? []) {
    try {
      out.set(v.name, await setupVolume(pod, v, host, ctx));
    } catch (e) {
      throw wrap(v, e);
    }
  }
  return out;
}

/** Rewrites configMap/secret/downwardAPI/projected contents if they changed (kubelet's periodic sync). */
export async function refreshVolumes(
  pod: KObject,
  host: VolumeHost,
  prepared: Map<string, PreparedVolume>,
): Promise<void> {
  const ctx = payloadContext(pod, host);
  const gid = fsGroupOf(pod);
  for (const v of podSpec(pod).volumes ?? []) {
    const p = prepared.get(v.name);
    if (!p) continue;
    try {
      const payload = await atomicPayload(pod, v, ctx);
      if (payload) writeAtomic(p.hostPath, payload, gid !== undefined ? fsGroupOwner(gid, true) : undefined);
    } catch (e) {
      throw wrap(v, e);
    }
  }
}

/** Unmounts the pod's tmpfs volumes and removes its directory (hostPath and PV data are left alone). */
export async function teardownVolumes(podUid: string, host: VolumeHost): Promise<void> {
  tokenCaches.delete(podUid);
  const dir = podDir(host.rootDir, podUid);
  const volumes = join(dir, 'volumes');
  for (const plugin of safeList(volumes))
    for (const name of safeList(join(volumes, plugin))) {
      const p = join(volumes, plugin, name);
      try {
        await unmountIfMounted(p);
      } catch (e) {
        throw new VolumeError(
          `UnmountVolume.TearDown failed for volume ${JSON.stringify(name)} : ${(e as Error).message}`,
          name,
        );
      }
    }
  rmSync(dir, { recursive: true, force: true });
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
