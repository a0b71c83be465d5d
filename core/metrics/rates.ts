/**
 * Turns two summaries of one node into usage, as metrics-server does: cpu is the increase of the
 * cumulative counter over the time between the two readings (nanocores over that window), memory the
 * latest working set. A container that restarted, or whose counter went backwards, has no usage until
 * its next reading; one that started after the previous scrape counts from its start (cpu 0 then), so a
 * new pod shows up after one scrape.
 */
import type { CpuStats, MemoryStats, Summary } from './summary.ts';

export interface Point {
  /** Milliseconds since the epoch of the cpu reading. */
  timeMs: number;
  cpuNs: number;
  memoryBytes: number;
}

export interface ContainerPoint extends Point {
  startMs: number;
}

/** One node's readings at one scrape. */
export interface NodeSnapshot {
  /** When the scraper fetched it (ms). */
  takenMs: number;
  node?: Point;
  /** Pod uid → the pod and its containers' readings by container name. */
  pods: Map<string, { namespace: string; name: string; containers: Map<string, ContainerPoint> }>;
}

export interface Usage {
  cpuNanoCores: number;
  memoryBytes: number;
}

export interface RatedUsage {
  /** End of the window (the later reading). */
  timestamp: Date;
  windowMs: number;
  usage: Usage;
}

export interface PodUsage {
  namespace: string;
  name: string;
  uid: string;
  timestamp: Date;
  windowMs: number;
  containers: { name: string; usage: Usage }[];
}

export interface NodeUsageResult {
  node?: RatedUsage;
  pods: PodUsage[];
}

function pointOf(cpu: CpuStats | undefined, memory: MemoryStats | undefined): Point | undefined {
  if (!cpu || !memory) return undefined;
  const timeMs = Date.parse(cpu.time);
  if (!Number.isFinite(timeMs) || !Number.isFinite(cpu.usageCoreNanoSeconds)) return undefined;
  if (!Number.isFinite(memory.workingSetBytes)) return undefined;
  return { timeMs, cpuNs: cpu.usageCoreNanoSeconds, memoryBytes: Math.max(0, memory.workingSetBytes) };
}

export function snapshotOf(summary: Summary, takenMs: number): NodeSnapshot {
  const node = pointOf(summary.node.cpu, summary.node.memory);
  const pods: NodeSnapshot['pods'] = new Map();
  for (const p of summary.pods) {
    const containers = new Map<string, ContainerPoint>();
    for (const c of p.containers) {
      const pt = pointOf(c.cpu, c.memory);
      const startMs = Date.parse(c.startTime);
      if (pt && Number.isFinite(startMs)) containers.set(c.name, { ...pt, startMs });
    }
    pods.set(p.podRef.uid, { namespace: p.podRef.namespace, name: p.podRef.name, containers });
  }
  return { takenMs, ...(node ? { node } : {}), pods };
}

/** Usage between two readings; undefined when time did not advance or the counter went backwards. */
export function rate(prev: Point, cur: Point): RatedUsage | undefined {
  const windowMs = cur.timeMs - prev.timeMs;
  const used = cur.cpuNs - prev.cpuNs;
  if (!(windowMs > 0) || used < 0) return undefined;
  return {
    timestamp: new Date(cur.timeMs),
    windowMs,
    usage: { cpuNanoCores: Math.round((used * 1e3) / windowMs), memoryBytes: cur.memoryBytes },
  };
}

function containerRate(
  prev: ContainerPoint | undefined,
  cur: ContainerPoint,
  prevTakenMs: number | undefined,
): RatedUsage | undefined {
  if (prev && prev.startMs === cur.startMs) return rate(prev, cur);
  // New since the previous scrape (or restarted since): count from its start.
  if (prevTakenMs !== undefined && cur.startMs >= prevTakenMs && cur.startMs < cur.timeMs)
    return rate({ timeMs: cur.startMs, cpuNs: 0, memoryBytes: 0 }, cur);
  return undefined;
}

/** The usage of a node and its pods from its previous and current snapshots. */
export function computeUsage(prev: NodeSnapshot | undefined, cur: NodeSnapshot): NodeUsageResult {
  const node = prev?.node && cur.node ? rate(prev.node, cur.node) : undefined;
  const pods: PodUsage[] = [];
  for (const [uid, p] of cur.pods) {
    if (p.containers.size === 0) continue;
    const before = prev?.pods.get(uid);
    const rated: { name: string; r: RatedUsage }[] = [];
    for (const [name, c] of p.containers) {
      const r = containerRate(before?.containers.get(name), c, prev?.takenMs);
      if (r) rated.push({ name, r });
    }
    // As metrics-server: a pod is reported only when every container has usage.
    if (rated.length !== p.containers.size) continue;
    const latest = rated.reduce((a, b) => (b.r.timestamp > a.r.timestamp ? b : a));
    pods.push({
      namespace: p.namespace,
      name: p.name,
      uid,
      timestamp: latest.r.timestamp,
      windowMs: latest.r.windowMs,
      containers: rated
        .map(({ name, r }) => ({ name, usage: r.usage }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    });
  }
  return { ...(node ? { node } : {}), pods };
}
