/**
 * A container's environment as the kubelet builds it (makeEnvironmentVariables): envFrom first (in
 * order, later sources win, invalid names skipped), then env in order with $(VAR) expansion against the
 * variables declared so far and the service env, valueFrom secretKeyRef / configMapKeyRef / fieldRef /
 * resourceFieldRef; finally the service link variables the container does not define itself.
 */
import type { Container, EnvVar } from 'kubernetes-types/core/v1';
import type { KObject } from '../../api/object.ts';
import { envVarNameErrors } from '../../registry/core/common.ts';
import { type Allocatable, podFieldValue, resourceFieldValue } from './fieldpath.ts';
import { podNamespace, podSpec } from './types.ts';

/** Reads Secrets and ConfigMaps (through the agent's KubeClient); undefined when not found. */
export interface ObjectSource {
  getSecret(ns: string, name: string): Promise<KObject | undefined>;
  getConfigMap(ns: string, name: string): Promise<KObject | undefined>;
}

/** A container's configuration cannot be built (→ waiting reason CreateContainerConfigError). */
export class ContainerConfigError extends Error {
  override name = 'ContainerConfigError';
}

export interface EnvContext {
  nodeName: string;
  hostIP: string;
  podIP: string;
  podIPs: string[];
  serviceEnv: Record<string, string>;
  /** Node allocatable: the value of resourceFieldRef limits the container leaves unset. */
  allocatable?: Allocatable;
  /** status.hostIPs (defaults to [hostIP]). */
  hostIPs?: string[];
  /** Called for the kubelet's InvalidEnvironmentVariableNames warning event. */
  onWarning?: (reason: string, message: string) => void;
}

/** Decoded Secret data (base64 in the API). */
export function secretData(secret: KObject): Record<string, string> {
  const out: Record<string, string> = {};
  const data = (secret['data'] ?? {}) as Record<string, string>;
  for (const [k, v] of Object.entries(data)) out[k] = Buffer.from(String(v), 'base64').toString('utf8');
  return out;
}

/** ConfigMap data, binaryData included (as the kubelet's string conversion). */
export function configMapData(cm: KObject): Record<string, string> {
  const out: Record<string, string> = {};
  const bin = (cm['binaryData'] ?? {}) as Record<string, string>;
  for (const [k, v] of Object.entries(bin)) out[k] = Buffer.from(String(v), 'base64').toString('utf8');
  Object.assign(out, (cm['data'] ?? {}) as Record<string, string>);
  return out;
}

/** The kubelet's secret/configmap managers report a missing object with the singular resource name. */
function notFound(kind: 'secret' | 'configmap', name: string): ContainerConfigError {
  return new ContainerConfigError(`${kind} "${name}" not found`);
}

/** Memoized lookups for one resolution: each object is read once. */
class Lookups {
  private readonly secrets = new Map<string, Promise<KObject | undefined>>();
  private readonly configMaps = new Map<string, Promise<KObject | undefined>>();
  constructor(
    private readonly src: ObjectSource,
    private readonly ns: string,
  ) {}
  secret(name: string): Promise<KObject | undefined> {
    let p = this.secrets.get(name);
    if (!p) this.secrets.set(name, (p = this.src.getSecret(this.ns, name)));
    return p;
  }
  configMap(name: string): Promise<KObject | undefined> {
    let p = this.configMaps.get(name);
    if (!p) this.configMaps.set(name, (p = this.src.getConfigMap(this.ns, name)));
    return p;
  }
}

/**
 * Kubernetes' $(VAR) expansion (third_party/forked/golang/expansion): `$(NAME)` is replaced by the first
 * mapping that defines NAME, else left as is; `$$` is an escaped `$`; any other `$` stays.
 */
export function expand(input: string, ...maps: Record<string, string>[]): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const next = input[cursor + 1];
    let advance = 1;
    if (next === '$') out += '$';
    else if (next === '(') {
      const close = input.indexOf(')', cursor + 2);
      if (close < 0) out += '$(';
      else {
        const name = input.slice(cursor + 2, close);
        const hit = maps.find((m) => Object.prototype.hasOwnProperty.call(m, name));
        out += hit ? hit[name] : `$(${name})`;
        advance = close - cursor;
      }
    } else out += `$${next}`;
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

/** The container's command and args with $(VAR) references expanded (ExpandContainerCommandAndArgs). */
export function expandCommand(
  container: Container,
  env: { key: string; value: string }[],
): { command: string[]; args: string[] } {
  const m = Object.fromEntries(env.map((e) => [e.key, e.value]));
  return {
    command: (container.command ?? []).map((c) => expand(c, m)),
    args: (container.args ?? []).map((a) => expand(a, m)),
  };
}

async function applyEnvFrom(
  pod: KObject,
  container: Container,
  look: Lookups,
  env: Map<string, string>,
  onWarning: EnvContext['onWarning'],
): Promise<void> {
  const ns = podNamespace(pod);
  for (const from of container.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    if (!ref) continue;
    const isCm = from.configMapRef !== undefined;
    const name = ref.name ?? '';
    const obj = isCm ? await look.configMap(name) : await look.secret(name);
    if (!obj) {
      if (ref.optional) continue;
      throw notFound(isCm ? 'configmap' : 'secret', name);
    }
    const data = isCm ? configMapData(obj) : secretData(obj);
    const invalid: string[] = [];
    for (const [k0, v] of Object.entries(data)) {
      const k = (from.prefix ?? '') + k0;
      if (envVarNameErrors(k).length) invalid.push(k);
      else env.set(k, v);
    }
    if (invalid.length)
      onWarning?.(
        'InvalidEnvironmentVariableNames',
        `Keys [${invalid.sort().join(', ')}] from the EnvFrom ${isCm ? 'configMap' : 'secret'} ${ns}/${name} were skipped since they are considered invalid environment variable names.`,
      );
  }
}

/** The value of one env entry; undefined when an optional source is missing (the variable is skipped). */
async function envVarValue(
  pod: KObject,
  container: Container,
  e: EnvVar,
  look: Lookups,
  ctx: EnvContext,
  declared: Map<string, string>,
): Promise<string | undefined> {
  const ns = podNamespace(pod);
  if (e.value) return expand(e.value, Object.fromEntries(declared), ctx.serviceEnv);
  const from = e.valueFrom;
  if (!from) return '';
  try {
    if (from.fieldRef) return podFieldValue(pod, from.fieldRef, ctx);
    if (from.resourceFieldRef)
      return resourceFieldValue(pod, container, from.resourceFieldRef, ctx.allocatable);
  } catch (err) {
    throw new ContainerConfigError(err instanceof Error ? err.message : String(err));
  }
  const keyRef = from.configMapKeyRef ?? from.secretKeyRef;
  if (!keyRef) return '';
  const isCm = from.configMapKeyRef !== undefined;
  const name = keyRef.name ?? '';
  const obj = isCm ? await look.configMap(name) : await look.secret(name);
  if (!obj) {
    if (keyRef.optional) return undefined;
    throw notFound(isCm ? 'configmap' : 'secret', name);
  }
  const data = isCm ? configMapData(obj) : secretData(obj);
  if (!Object.prototype.hasOwnProperty.call(data, keyRef.key)) {
    if (keyRef.optional) return undefined;
    throw new ContainerConfigError(
      `couldn't find key ${keyRef.key} in ${isCm ? 'ConfigMap' : 'Secret'} ${ns}/${name}`,
    );
  }
  return data[keyRef.key];
}

/** Container env in Kubernetes order (envFrom first, then env; later wins; $(VAR) expansion as kubelet). */
export async function resolveEnv(
  pod: KObject,
  container: Container,
  src: ObjectSource,
  ctx: EnvContext,
): Promise<{ key: string; value: string }[]> {
  const look = new Lookups(src, podNamespace(pod));
  const env = new Map<string, string>();
  await applyEnvFrom(pod, container, look, env, ctx.onWarning);
  for (const e of container.env ?? []) {
    const v = await envVarValue(pod, container, e, look, ctx, env);
    if (v !== undefined) env.set(e.name, v);
  }
  const out = [...env].map(([key, value]) => ({ key, value }));
  for (const [key, value] of Object.entries(ctx.serviceEnv)) if (!env.has(key)) out.push({ key, value });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Service links (pkg/kubelet/envvars)
// ---------------------------------------------------------------------------------------------

interface ServicePort {
  name?: string;
  port: number;
  protocol?: string;
}

function envName(s: string): string {
  return s.toUpperCase().replace(/-/g, '_');
}

function hasClusterIP(svc: KObject): boolean {
  const ip = (svc['spec'] as { clusterIP?: string } | undefined)?.clusterIP;
  return !!ip && ip !== 'None';
}

function joinHostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** The env vars of one service (envvars.FromServices + Docker-compatible link variables). */
function serviceVars(svc: KObject, out: Record<string, string>): void {
  const spec = (svc['spec'] ?? {}) as { clusterIP?: string; ports?: ServicePort[] };
  const name = envName(svc.metadata.name ?? '');
  const ip = spec.clusterIP ?? '';
  const ports = spec.ports ?? [];
  out[`${name}_SERVICE_HOST`] = ip;
  if (ports[0]) out[`${name}_SERVICE_PORT`] = String(ports[0].port);
  for (const p of ports) if (p.name) out[`${name}_SERVICE_PORT_${envName(p.name)}`] = String(p.port);
  ports.forEach((p, i) => {
    const proto = p.protocol || 'TCP';
    const url = `${proto.toLowerCase()}://${joinHostPort(ip, p.port)}`;
    if (i === 0) out[`${name}_PORT`] = url;
    const prefix = `${name}_PORT_${p.port}_${proto.toUpperCase()}`;
    out[prefix] = url;
    out[`${prefix}_PROTO`] = proto.toLowerCase();
    out[`${prefix}_PORT`] = String(p.port);
    out[`${prefix}_ADDR`] = ip;
  });
}

/**
 * The Docker-links style service env vars (FOO_SERVICE_HOST…) for a namespace's services
 * (getServiceEnvVarMap): the master service ("kubernetes" in masterServiceNs) always, the pod
 * namespace's services when enableServiceLinks (a same-named one there wins over the master service).
 * Without opts.podNamespace every given non-master service counts as the pod's namespace.
 */
export function serviceEnv(
  services: KObject[],
  masterServiceNs: string,
  opts: { podNamespace?: string; enableServiceLinks?: boolean } = {},
): Record<string, string> {
  const links = opts.enableServiceLinks ?? true;
  const chosen = new Map<string, KObject>();
  for (const svc of services) {
    if (!hasClusterIP(svc)) continue;
    const name = svc.metadata.name ?? '';
    const ns = svc.metadata.namespace ?? 'default';
    if (ns === masterServiceNs && name === 'kubernetes') {
      if (!chosen.has(name)) chosen.set(name, svc);
    } else if (links && (opts.podNamespace === undefined || ns === opts.podNamespace)) chosen.set(name, svc);
  }
  const out: Record<string, string> = {};
  for (const svc of chosen.values()) serviceVars(svc, out);
  return out;
}

/** Whether the pod wants service link variables (spec.enableServiceLinks, default true). */
export function enableServiceLinks(pod: KObject): boolean {
  return podSpec(pod).enableServiceLinks ?? true;
}
