/**
 * The downward API's values, shared by env (fieldRef/resourceFieldRef) and downwardAPI volume items:
 * the kubelet's podFieldSelectorRuntimeValue + fieldpath.ExtractFieldPathAsString, and
 * resource.ExtractContainerResourceValue with limits defaulted to the node's allocatable.
 */
import type { Container, ObjectFieldSelector, ResourceFieldSelector } from 'kubernetes-types/core/v1';
import type { KObject } from '../../api/object.ts';
import { tryParseQuantity } from '../../registry/core/quantity.ts';
import { podSpec } from './types.ts';

/** What only the node knows about a pod (status fields of the downward API). */
export interface PodRuntimeInfo {
  nodeName: string;
  hostIP: string;
  /** Every address of the node (status.hostIPs); defaults to [hostIP]. */
  hostIPs?: string[];
  podIP: string;
  podIPs: string[];
}

/** Node allocatable (quantity strings by resource name): the default of unset limits. */
export type Allocatable = Record<string, string>;

/** Go's %q for a string: double quotes, Go escapes for controls, printable Unicode kept. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (cp === 7) out += '\\a';
    else if (cp === 8) out += '\\b';
    else if (cp === 12) out += '\\f';
    else if (cp === 11) out += '\\v';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** fieldpath.FormatMap: `k="v"` lines in key order, no trailing newline. */
export function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${goQuote(m?.[k] ?? '')}`)
    .join('\n');
}

/** A metadata.labels['k'] / metadata.annotations['k'] subscript, split. */
function splitSubscript(path: string): { base: string; key: string } | undefined {
  const m = /^(metadata\.(?:labels|annotations))\['(.*)'\]$/.exec(path);
  return m ? { base: m[1] ?? '', key: m[2] ?? '' } : undefined;
}

/** The value of a pod field the downward API exposes (env fieldRef or volume item). */
export function podFieldValue(pod: KObject, sel: ObjectFieldSelector, info: PodRuntimeInfo): string {
  const path = sel.fieldPath;
  const spec = podSpec(pod);
  const meta = pod.metadata;
  switch (path) {
    case 'spec.nodeName':
      return spec.nodeName ?? info.nodeName;
    case 'spec.serviceAccountName':
      return spec.serviceAccountName ?? '';
    case 'status.hostIP':
      return info.hostIPs?.[0] ?? info.hostIP;
    case 'status.hostIPs':
      return (info.hostIPs ?? [info.hostIP]).join(',');
    case 'status.podIP':
      return info.podIP;
    case 'status.podIPs':
      return info.podIPs.join(',');
    case 'metadata.name':
      return meta.name ?? '';
    case 'metadata.namespace':
      return meta.namespace ?? '';
    case 'metadata.uid':
      return meta.uid ?? '';
    case 'metadata.labels':
      return formatMap(meta.labels);
    case 'metadata.annotations':
      return formatMap(meta.annotations);
  }
  const sub = splitSubscript(path);
  if (sub) {
    const m = sub.base === 'metadata.labels' ? meta.labels : meta.annotations;
    return m?.[sub.key] ?? '';
  }
  throw new Error(`unsupported fieldPath: ${path}`);
}

function ceilDiv(a: bigint, b: bigint): bigint {
  if (b === 0n) return 0n;
  const q = a / b;
  return a % b !== 0n && a > 0n === b > 0n ? q + 1n : q;
}

/** Quantity.MilliValue() / Value(): rounded up. */
function milliOf(q: string | undefined): bigint {
  const n = q === undefined ? 0n : (tryParseQuantity(String(q))?.nanos ?? 0n);
  return ceilDiv(n, 1_000_000n);
}
function valueOf(q: string | undefined): bigint {
  const n = q === undefined ? 0n : (tryParseQuantity(String(q))?.nanos ?? 0n);
  return ceilDiv(n, 1_000_000_000n);
}

const DEFAULTED_LIMITS = ['cpu', 'memory', 'ephemeral-storage'];

/** The container's limits with the node's allocatable where a limit is unset (MergeContainerResourceLimits). */
export function limitsWithAllocatable(
  container: Container,
  allocatable: Allocatable | undefined,
): Record<string, string> {
  const limits: Record<string, string> = {};
  for (const [k, v] of Object.entries(container.resources?.limits ?? {})) limits[k] = String(v);
  for (const r of DEFAULTED_LIMITS) {
    const a = allocatable?.[r];
    if (limits[r] === undefined && a !== undefined) limits[r] = a;
  }
  return limits;
}

/**
 * A resourceFieldRef's value (resource.ExtractContainerResourceValue): cpu in units of the divisor
 * (rounded up from millicores), memory/ephemeral-storage/hugepages in units of the divisor (rounded up).
 * `sel.containerName` picks another container of the pod (volume items).
 */
export function resourceFieldValue(
  pod: KObject,
  container: Container | undefined,
  sel: ResourceFieldSelector,
  allocatable?: Allocatable,
): string {
  let c = container;
  if (sel.containerName) {
    const spec = podSpec(pod);
    c = [...spec.containers, ...(spec.initContainers ?? [])].find((x) => x.name === sel.containerName);
    if (!c) throw new Error(`container ${sel.containerName} not found`);
  }
  if (!c) throw new Error(`no container for resource ${sel.resource}`);
  const divisor =
    sel.divisor === undefined || valueOfNanos(String(sel.divisor)) === 0n ? '1' : String(sel.divisor);
  const m = /^(limits|requests)\.(.+)$/.exec(sel.resource);
  const kind = m?.[1];
  const res = m?.[2] ?? '';
  if (!m || !(['cpu', 'memory', 'ephemeral-storage'].includes(res) || res.startsWith('hugepages-')))
    throw new Error(`unsupported container resource : ${sel.resource}`);
  const values =
    kind === 'limits'
      ? limitsWithAllocatable(c, allocatable)
      : Object.fromEntries(Object.entries(c.resources?.requests ?? {}).map(([k, v]) => [k, String(v)]));
  if (res === 'cpu') return ceilDiv(milliOf(values['cpu']), milliOf(divisor)).toString();
  return ceilDiv(valueOf(values[res]), valueOf(divisor)).toString();
}

function valueOfNanos(q: string): bigint {
  return tryParseQuantity(q)?.nanos ?? 0n;
}
