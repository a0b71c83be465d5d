/**
 * GET /stats/summary on the agent endpoint: this node's resource usage as the kubelet's Summary API
 * reports it (the subset in core/metrics/summary.ts). The node's numbers come from the node container's
 * own cgroup (cpu time; memory working set = usage − inactive file pages, as the kubelet computes it),
 * cgroup v1 or v2; the running containers' from containerd's CRI ListContainerStats, grouped into pods
 * by the kubelet's CRI labels.
 */
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import type { CriClient } from '../cri/client.ts';
import {
  CONTAINER_NAME_LABEL,
  POD_NAME_LABEL,
  POD_NAMESPACE_LABEL,
  POD_UID_LABEL,
} from '../kubelet/sandbox-config.ts';
import type { CpuStats, MemoryStats, PodStats, Summary } from '../../metrics/summary.ts';

/** The CRI calls the summary needs. */
export type StatsCri = Pick<CriClient, 'listContainers' | 'call'>;

interface CriContainerStats {
  attributes?: { id: string };
  cpu?: { timestamp: number; usageCoreNanoSeconds?: { value: number } };
  memory?: { timestamp: number; workingSetBytes?: { value: number } };
}

/** RFC 3339 with nanoseconds from nanoseconds since the epoch (precision of a double is enough). */
export function timeOfNanos(ns: number): string {
  const ms = Math.floor(ns / 1e6);
  const frac = String(Math.max(0, Math.round(ns - ms * 1e6))).padStart(6, '0');
  return new Date(ms).toISOString().replace(/Z$/, `${frac}Z`);
}

const readText = async (path: string): Promise<string | undefined> => {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
};

const statField = (text: string | undefined, key: string): number | undefined => {
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(text ?? '');
  return m ? Number(m[1]) : undefined;
};

const firstNumber = async (paths: string[]): Promise<number | undefined> => {
  for (const p of paths) {
    const t = (await readText(p))?.trim();
    if (t && /^\d+$/.test(t)) return Number(t);
  }
  return undefined;
};

/** The node's usage from the cgroup hierarchy mounted at `root` (the node container's own cgroup). */
export async function nodeUsage(
  root = '/sys/fs/cgroup',
  now: () => Date = () => new Date(),
): Promise<{ cpu?: CpuStats; memory?: MemoryStats }> {
  const time = now().toISOString();
  const v2Stat = await readText(`${root}/cpu.stat`);
  let cpuNs: number | undefined;
  let memUsage: number | undefined;
  let inactive: number | undefined;
  if (v2Stat !== undefined && (await readText(`${root}/cgroup.controllers`)) !== undefined) {
    const usec = statField(v2Stat, 'usage_usec');
    cpuNs = usec === undefined ? undefined : usec * 1000;
    memUsage = await firstNumber([`${root}/memory.current`]);
    inactive = statField(await readText(`${root}/memory.stat`), 'inactive_file');
  } else {
    cpuNs = await firstNumber(
      ['cpuacct', 'cpu,cpuacct', 'cpuacct,cpu'].map((d) => `${root}/${d}/cpuacct.usage`),
    );
    memUsage = await firstNumber([`${root}/memory/memory.usage_in_bytes`]);
    inactive = statField(await readText(`${root}/memory/memory.stat`), 'total_inactive_file');
  }
  return {
    ...(cpuNs !== undefined ? { cpu: { time, usageCoreNanoSeconds: cpuNs } } : {}),
    ...(memUsage !== undefined
      ? { memory: { time, workingSetBytes: Math.max(0, memUsage - (inactive ?? 0)) } }
      : {}),
  };
}

/** The running containers' usage, by pod. */
export async function podUsage(cri: StatsCri): Promise<PodStats[]> {
  const [containers, stats] = await Promise.all([
    cri.listContainers({ state: { state: 'CONTAINER_RUNNING' } }),
    cri.call<{ stats: CriContainerStats[] }>('RuntimeService', 'ListContainerStats', {}, 20_000),
  ]);
  const byId = new Map(stats.stats.map((s) => [s.attributes?.id ?? '', s]));
  const pods = new Map<string, PodStats>();
  for (const c of containers) {
    const uid = c.labels[POD_UID_LABEL];
    const name = c.labels[POD_NAME_LABEL];
    const namespace = c.labels[POD_NAMESPACE_LABEL];
    const container = c.labels[CONTAINER_NAME_LABEL] ?? c.metadata?.name;
    const s = byId.get(c.id);
    if (!uid || !name || !namespace || !container || !s) continue;
    let pod = pods.get(uid);
    if (!pod) pods.set(uid, (pod = { podRef: { name, namespace, uid }, containers: [] }));
    const cpu = s.cpu?.usageCoreNanoSeconds;
    const mem = s.memory?.workingSetBytes;
    pod.containers.push({
      name: container,
      startTime: timeOfNanos(c.createdAt),
      ...(s.cpu && cpu
        ? { cpu: { time: timeOfNanos(s.cpu.timestamp), usageCoreNanoSeconds: cpu.value } }
        : {}),
      ...(s.memory && mem
        ? { memory: { time: timeOfNanos(s.memory.timestamp), workingSetBytes: mem.value } }
        : {}),
    });
  }
  return [...pods.values()];
}

export async function nodeSummary(cri: StatsCri, nodeName: string, cgroupRoot?: string): Promise<Summary> {
  const [node, pods] = await Promise.all([nodeUsage(cgroupRoot), podUsage(cri)]);
  return { node: { nodeName, ...node }, pods };
}

export function sendSummary(res: ServerResponse, summary: Summary): void {
  const body = JSON.stringify(summary);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
