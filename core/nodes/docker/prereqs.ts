/**
 * Prerequisites of the Docker node driver: says exactly what is missing and how to fix it.
 * `checkDockerPrerequisites()` never throws; `requireDocker()` throws a DockerUnavailableError whose
 * message names what is missing (the driver and the tests use it).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { capabilityPlan } from './caps.ts';
import {
  BASE_IMAGE,
  canBootstrapBase,
  CONTENT_HASH_LABEL,
  defaultImagesDir,
  imageLabels,
  nodeImageSpec,
} from './images.ts';

export interface Prerequisite {
  name: string;
  ok: boolean;
  detail: string;
  /** How to fix it, when not ok. */
  fix?: string;
}

export interface PrerequisiteReport {
  ok: boolean;
  items: Prerequisite[];
}

export class DockerUnavailableError extends Error {
  /** The problem alone, without the fix. */
  reason?: string;
  constructor(
    message: string,
    readonly report?: PrerequisiteReport,
  ) {
    super(message);
    this.name = 'DockerUnavailableError';
  }
}

/** Where dockerode will connect: DOCKER_HOST or the default socket. */
export function dockerEndpoint(): string {
  const host = process.env.DOCKER_HOST;
  if (host) return host;
  return process.platform === 'win32' ? 'npipe:////./pipe/docker_engine' : 'unix:///var/run/docker.sock';
}

function engineFix(): string {
  if (process.platform === 'darwin') return 'start Docker Desktop (or `colima start`), then retry';
  if (process.platform === 'win32') return 'start Docker Desktop, then retry';
  return (
    'install and start a Docker engine: `apt-get install -y docker.io` then `systemctl start docker` ' +
    '(or, without systemd, `dockerd >/tmp/dockerd.log 2>&1 &`)'
  );
}

/** Probes the engine: resolves with its version, or rejects with a DockerUnavailableError. */
export async function pingDocker(docker = new Docker()): Promise<{ version: string; apiVersion: string }> {
  try {
    await docker.ping();
    const v = await docker.version();
    return { version: v.Version, apiVersion: v.ApiVersion };
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why =
      code === 'ENOENT'
        ? 'its socket does not exist'
        : code === 'EACCES'
          ? 'permission denied on its socket (add your user to the "docker" group, or run as root)'
          : code === 'ECONNREFUSED'
            ? 'connection refused'
            : (e as Error).message;
    const err = new DockerUnavailableError(
      `No Docker engine answers at ${dockerEndpoint()}: ${why}. The docker node driver needs one; ${engineFix()}.`,
    );
    err.reason = `no Docker engine answers at ${dockerEndpoint()}: ${why}`;
    throw err;
  }
}

export async function checkDockerPrerequisites(
  opts: { docker?: Docker; imagesDir?: string } = {},
): Promise<PrerequisiteReport> {
  const items: Prerequisite[] = [];
  const docker = opts.docker ?? new Docker();
  const dir = opts.imagesDir ?? defaultImagesDir();

  let engineOk = false;
  try {
    const v = await pingDocker(docker);
    const [maj = 0, min = 0] = v.apiVersion.split('.').map(Number);
    engineOk = maj > 1 || (maj === 1 && min >= 41);
    items.push({
      name: 'Docker engine',
      ok: engineOk,
      detail: `engine ${v.version} (API ${v.apiVersion}) at ${dockerEndpoint()}`,
      ...(engineOk ? {} : { fix: 'upgrade the Docker engine to 20.10 or newer (API 1.41)' }),
    });
  } catch (e) {
    items.push({
      name: 'Docker engine',
      ok: false,
      detail: e instanceof DockerUnavailableError && e.reason ? e.reason : (e as Error).message,
      fix: engineFix(),
    });
  }

  if (engineOk) {
    try {
      const info = (await docker.info()) as { OSType?: string; CgroupVersion?: string; Driver?: string };
      const linux = info.OSType === 'linux';
      items.push({
        name: 'Linux containers',
        ok: linux,
        detail: `engine runs ${info.OSType ?? 'unknown'} containers (storage ${info.Driver ?? '?'}, cgroup v${info.CgroupVersion ?? '?'})`,
        ...(linux ? {} : { fix: 'switch Docker to Linux containers' }),
      });
    } catch (e) {
      items.push({ name: 'Linux containers', ok: false, detail: (e as Error).message, fix: engineFix() });
    }
  }

  const hasDockerfile = existsSync(join(dir, 'Dockerfile'));
  items.push({
    name: 'node image recipe',
    ok: hasDockerfile,
    detail: hasDockerfile ? `${join(dir, 'Dockerfile')}` : `no Dockerfile in ${dir}`,
    ...(hasDockerfile ? {} : { fix: 'reinstall Berth (vm-images/ is part of it)' }),
  });

  if (engineOk && hasDockerfile) {
    const spec = await nodeImageSpec(dir);
    const labels = await imageLabels(docker, spec.tag).catch(() => undefined);
    if (labels?.[CONTENT_HASH_LABEL] === spec.hash) {
      items.push({ name: 'node image', ok: true, detail: `${spec.tag} is built` });
    } else {
      const base = await imageLabels(docker, BASE_IMAGE).catch(() => undefined);
      const can = canBootstrapBase();
      if (base) {
        items.push({
          name: 'node image',
          ok: true,
          detail: `${spec.tag} will be built from ${BASE_IMAGE} (present)`,
        });
      } else if (can.ok) {
        items.push({
          name: 'node image',
          ok: true,
          detail: `${spec.tag} will be built; ${BASE_IMAGE} will be made with debootstrap`,
        });
      } else {
        // Not a failure: docker build pulls the base where a registry is reachable.
        items.push({
          name: 'node image',
          ok: true,
          detail:
            `${spec.tag} will be built; ${BASE_IMAGE} is missing and will be pulled (${can.why} for a local ` +
            `bootstrap). Without a reachable registry, install debootstrap and run vm-images/bootstrap-base.sh as root.`,
        });
      }
    }
  }

  const plan = capabilityPlan();
  items.push({
    name: 'capabilities',
    ok: true,
    detail: plan.privileged
      ? 'full bounding set: nodes run --privileged'
      : `bounding set lacks ${plan.missing.join(', ')}: nodes run with --cap-add of the other ${plan.capAdd.length}`,
  });
  return { ok: items.every((i) => i.ok), items };
}

export function formatPrerequisites(r: PrerequisiteReport): string {
  return r.items
    .map(
      (i) =>
        `${i.ok ? 'ok     ' : 'MISSING'} ${i.name}: ${i.detail}${i.fix ? `\n        fix: ${i.fix}` : ''}`,
    )
    .join('\n');
}

/** Throws a DockerUnavailableError naming what is missing, unless everything is there. */
export async function requireDocker(
  opts: { docker?: Docker; imagesDir?: string } = {},
): Promise<PrerequisiteReport> {
  const r = await checkDockerPrerequisites(opts);
  if (!r.ok) {
    const missing = r.items.filter((i) => !i.ok);
    throw new DockerUnavailableError(
      `The docker node driver cannot run here:\n${formatPrerequisites({ ok: false, items: missing })}`,
      r,
    );
  }
  return r;
}
