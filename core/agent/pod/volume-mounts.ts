/**
 * The CRI mounts of one container (the kubelet's makeMounts for volumeMounts): the prepared volume or a
 * subPath / subPathExpr inside it (created when missing, never escaping the volume), read-only when the
 * mount or the volume is, and the mount propagation.
 */
import { mkdirSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import type { VolumeMount } from 'kubernetes-types/core/v1';
import type { CriMount, CriMountPropagation } from '../cri/types.ts';
import { ContainerConfigError, expand } from './env.ts';
import type { Container } from './types.ts';

interface Prepared {
  hostPath: string;
  readOnly: boolean;
}

const PROPAGATION: Record<string, CriMountPropagation> = {
  None: 'PROPAGATION_PRIVATE',
  HostToContainer: 'PROPAGATION_HOST_TO_CONTAINER',
  Bidirectional: 'PROPAGATION_BIDIRECTIONAL',
};

/** subPathExpr with $(VAR) from the container's env; a missing or empty variable is an error. */
export function expandSubPathExpr(expr: string, env: { key: string; value: string }[]): string {
  const vars = new Map(env.map((e) => [e.key, e.value]));
  const missing = new Set<string>();
  const found: Record<string, string> = {};
  for (const m of expr.matchAll(/\$\(([^)]*)\)/g)) {
    const k = m[1] ?? '';
    const v = vars.get(k);
    if (!v) missing.add(k);
    else found[k] = v;
  }
  if (missing.size) throw new ContainerConfigError(`missing value for ${[...missing].sort().join(', ')}`);
  return expand(expr, found);
}

/** The host path of a subPath inside a volume: created (with the volume root's mode) when missing. */
function subPathHostPath(volumePath: string, subPath: string): string {
  if (isAbsolute(subPath))
    throw new ContainerConfigError(`error SubPath \`${subPath}\` must not be an absolute path`);
  if (subPath.split('/').includes('..'))
    throw new ContainerConfigError(`unable to provision SubPath \`${subPath}\`: must not contain '..'`);
  const p = join(volumePath, subPath);
  try {
    statSync(p);
  } catch {
    const mode = statSync(volumePath).mode & 0o7777;
    mkdirSync(p, { recursive: true, mode });
  }
  // Resolve symlinks (atomic-writer files, user links) and refuse anything outside the volume.
  const real = realpathSync(p);
  const root = realpathSync(volumePath);
  const rel = relative(root, real);
  if (rel === '..' || rel.startsWith('../') || isAbsolute(rel))
    throw new ContainerConfigError(`subpath "${real}" not within volume path "${root}"`);
  return real;
}

function oneMount(m: VolumeMount, vol: Prepared, env: { key: string; value: string }[]): CriMount {
  let sub = m.subPath ?? '';
  if (m.subPathExpr) sub = expandSubPathExpr(m.subPathExpr, env);
  const hostPath = sub ? subPathHostPath(vol.hostPath, sub) : vol.hostPath;
  const out: CriMount = { containerPath: m.mountPath, hostPath, readonly: !!m.readOnly || vol.readOnly };
  const prop = PROPAGATION[m.mountPropagation ?? 'None'];
  if (prop) out.propagation = prop;
  return out;
}

/**
 * CRI mounts for one container (volumeMounts incl. subPath, readOnly); /etc/hosts etc. are the
 * kubelet's. `env` is the container's resolved env (for subPathExpr). Throws ContainerConfigError.
 */
export function containerMounts(
  container: Container,
  prepared: Map<string, Prepared>,
  env: { key: string; value: string }[] = [],
): CriMount[] {
  return (container.volumeMounts ?? []).map((m) => {
    const vol = prepared.get(m.name);
    if (!vol)
      throw new ContainerConfigError(
        `cannot find volume "${m.name}" to mount into container "${container.name}"`,
      );
    return oneMount(m, vol, env);
  });
}
