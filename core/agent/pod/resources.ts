/**
 * Container resources as the kubelet gives them to the runtime (kuberuntime's
 * calculateLinuxResources + qos.GetContainerOOMScoreAdjust) and the pod cgroup placement by QoS class
 * (pkg/kubelet/cm with the cgroupfs driver).
 */
import { totalmem } from 'node:os';
import type { PodSpec } from 'kubernetes-types/core/v1';
import type { KObject } from '../../api/object.ts';
import { computePodQOS } from '../../registry/core/pods.ts';
import { tryParseQuantity } from '../../registry/core/quantity.ts';
import type { CriLinuxContainerResources } from '../cri/types.ts';
import { type Container, podSpec, podUid } from './types.ts';

export type QOSClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

/** cm.MinShares, SharesPerCPU, MaxShares; CFS period and minimal quota (µs). */
const MIN_SHARES = 2;
const SHARES_PER_CPU = 1024;
const MAX_SHARES = 262144;
export const CFS_PERIOD_US = 100000;
const MIN_QUOTA_US = 1000;

/** qos/policy.go */
export const GUARANTEED_OOM_SCORE_ADJ = -997;
export const BEST_EFFORT_OOM_SCORE_ADJ = 1000;
const SYSTEM_CRITICAL_PRIORITY = 2000000000;

/** The root of every pod cgroup (cgroupfs driver). */
export const KUBEPODS_CGROUP = '/kubepods';

/** The pod's QoS class: status.qosClass when the API server set it, else computed the same way. */
export function qosClass(pod: KObject): QOSClass {
  const st = (pod['status'] as { qosClass?: string } | undefined)?.qosClass;
  if (st === 'Guaranteed' || st === 'Burstable' || st === 'BestEffort') return st;
  return computePodQOS(podSpec(pod) as PodSpec);
}

function milli(q: unknown): bigint | undefined {
  if (q === undefined || q === null) return undefined;
  const n = tryParseQuantity(String(q))?.nanos;
  if (n === undefined) return undefined;
  return n <= 0n ? 0n : (n + 999_999n) / 1_000_000n;
}

function bytes(q: unknown): number {
  const n = q === undefined || q === null ? 0n : (tryParseQuantity(String(q))?.nanos ?? 0n);
  return n <= 0n ? 0 : Number((n + 999_999_999n) / 1_000_000_000n);
}

/** cm.MilliCPUToShares */
export function milliCPUToShares(milliCPU: number): number {
  if (milliCPU === 0) return MIN_SHARES;
  const shares = Math.floor((milliCPU * SHARES_PER_CPU) / 1000);
  return Math.min(MAX_SHARES, Math.max(MIN_SHARES, shares));
}

/** milliCPUToQuota: 0 (no limit) when no CPU limit, at least 1 ms. */
export function milliCPUToQuota(milliCPU: number, period = CFS_PERIOD_US): number {
  if (milliCPU === 0) return 0;
  return Math.max(MIN_QUOTA_US, Math.floor((milliCPU * period) / 1000));
}

/** types.IsNodeCriticalPod: a system-node-critical pod with a critical priority. */
function isNodeCriticalPod(pod: KObject): boolean {
  const spec = podSpec(pod);
  return (
    spec.priorityClassName === 'system-node-critical' && (spec.priority ?? 0) >= SYSTEM_CRITICAL_PRIORITY
  );
}

/** qos.GetContainerOOMScoreAdjust */
export function oomScoreAdj(pod: KObject, container: Container, memoryCapacity: number): number {
  if (isNodeCriticalPod(pod)) return GUARANTEED_OOM_SCORE_ADJ;
  const qos = qosClass(pod);
  if (qos === 'Guaranteed') return GUARANTEED_OOM_SCORE_ADJ;
  if (qos === 'BestEffort') return BEST_EFFORT_OOM_SCORE_ADJ;
  const request = bytes(container.resources?.requests?.['memory']);
  const adj = memoryCapacity > 0 ? 1000 - Math.floor((1000 * request) / memoryCapacity) : 1000;
  if (adj < 1000 + GUARANTEED_OOM_SCORE_ADJ) return 1000 + GUARANTEED_OOM_SCORE_ADJ;
  if (adj === BEST_EFFORT_OOM_SCORE_ADJ) return adj - 1;
  return adj;
}

/**
 * The runtime's resources for one container: CPU shares from the request (the limit when no request;
 * minimum 2, 1024 per core), CFS quota/period from the limit, the memory limit in bytes, and the OOM
 * score adjustment of the pod's QoS class. `memoryCapacity` is the node's memory (default: this
 * machine's).
 */
export function containerResources(
  pod: KObject,
  container: Container,
  opts: { memoryCapacity?: number; cpuCFSQuota?: boolean } = {},
): CriLinuxContainerResources {
  const req = container.resources?.requests ?? {};
  const lim = container.resources?.limits ?? {};
  const cpuLimit = Number(milli(lim['cpu']) ?? 0n);
  const cpuRequest = milli(req['cpu']);
  const out: CriLinuxContainerResources = {
    // A zero (or absent) request with a limit defaults to the limit, as the kubelet repeats it.
    cpuShares: milliCPUToShares(
      cpuRequest === undefined || cpuRequest === 0n ? cpuLimit : Number(cpuRequest),
    ),
  };
  const mem = bytes(lim['memory']);
  if (mem !== 0) out.memoryLimitInBytes = mem;
  if (opts.cpuCFSQuota ?? true) {
    out.cpuPeriod = CFS_PERIOD_US;
    out.cpuQuota = milliCPUToQuota(cpuLimit);
  }
  out.oomScoreAdj = oomScoreAdj(pod, container, opts.memoryCapacity ?? totalmem());
  return out;
}

/** The QoS-class cgroup under /kubepods (Guaranteed pods sit directly in it). */
export function qosCgroup(qos: QOSClass): string {
  return qos === 'Guaranteed' ? KUBEPODS_CGROUP : `${KUBEPODS_CGROUP}/${qos.toLowerCase()}`;
}

/** The pod's cgroup (cgroupfs driver), e.g. "/kubepods/burstable/pod<uid>". */
export function sandboxCgroupParent(pod: KObject): string {
  return `${qosCgroup(qosClass(pod))}/pod${podUid(pod)}`;
}
