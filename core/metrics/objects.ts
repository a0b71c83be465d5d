/**
 * metrics.k8s.io/v1beta1 objects as metrics-server serves them: NodeMetrics and PodMetrics with the
 * Node's / Pod's labels, creationTimestamp = now, the window as a Go duration, cpu as a decimal
 * quantity of nanocores ("12345678n", "200m") and memory as a binary quantity of bytes ("1234Ki").
 */
import { rfc3339, type KObject } from '../api/object.ts';
import { formatNanos } from '../registry/core/quantity.ts';
import type { Usage } from './rates.ts';

export const METRICS_GROUP = 'metrics.k8s.io';
export const METRICS_VERSION = 'v1beta1';
export const METRICS_API_VERSION = `${METRICS_GROUP}/${METRICS_VERSION}`;

export function cpuQuantity(nanoCores: number): string {
  return formatNanos(BigInt(Math.max(0, Math.round(nanoCores))), 'DecimalSI');
}

export function memoryQuantity(bytes: number): string {
  return formatNanos(BigInt(Math.max(0, Math.round(bytes))) * 1_000_000_000n, 'BinarySI');
}

/** A duration as Go's time.Duration.String() prints it, to the millisecond ("15.012s", "1m0.5s"). */
export function goDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms));
  if (total === 0) return '0s';
  if (total < 1000) return `${total}ms`;
  const h = Math.floor(total / 3_600_000);
  const m = Math.floor((total % 3_600_000) / 60_000);
  const sMs = total % 60_000;
  const secs = `${Math.floor(sMs / 1000)}${
    sMs % 1000
      ? `.${String(sMs % 1000)
          .padStart(3, '0')
          .replace(/0+$/, '')}`
      : ''
  }s`;
  if (h) return `${h}h${m}m${secs}`;
  if (m) return `${m}m${secs}`;
  return secs;
}

export function usageQuantities(u: Usage): { cpu: string; memory: string } {
  return { cpu: cpuQuantity(u.cpuNanoCores), memory: memoryQuantity(u.memoryBytes) };
}

function metadata(source: KObject, now: Date): KObject['metadata'] {
  const labels = source.metadata.labels;
  return {
    name: source.metadata.name ?? '',
    ...(source.metadata.namespace ? { namespace: source.metadata.namespace } : {}),
    creationTimestamp: rfc3339(now),
    ...(labels && Object.keys(labels).length ? { labels: { ...labels } } : {}),
  };
}

export function nodeMetricsObject(
  node: KObject,
  r: { timestamp: Date; windowMs: number; usage: Usage },
  now: Date,
): KObject {
  return {
    kind: 'NodeMetrics',
    apiVersion: METRICS_API_VERSION,
    metadata: metadata(node, now),
    timestamp: rfc3339(r.timestamp),
    window: goDuration(r.windowMs),
    usage: usageQuantities(r.usage),
  };
}

export function podMetricsObject(
  pod: KObject,
  r: { timestamp: Date; windowMs: number; containers: { name: string; usage: Usage }[] },
  now: Date,
): KObject {
  return {
    kind: 'PodMetrics',
    apiVersion: METRICS_API_VERSION,
    metadata: metadata(pod, now),
    timestamp: rfc3339(r.timestamp),
    window: goDuration(r.windowMs),
    containers: r.containers.map((c) => ({ name: c.name, usage: usageQuantities(c.usage) })),
  };
}
