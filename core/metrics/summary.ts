/**
 * The resource summary a node agent serves on its endpoint (GET /stats/summary): the subset of the
 * kubelet's stats/v1alpha1 Summary that resource metrics need. CPU is a cumulative counter
 * (usageCoreNanoSeconds), memory the working set (usage minus inactive file pages), each with the time
 * it was read. Shared by the agent (core/agent/server/stats.ts) and the scraper (core/metrics).
 */
export const SUMMARY_PATH = '/stats/summary';

export interface CpuStats {
  /** RFC 3339 time of the reading. */
  time: string;
  usageCoreNanoSeconds: number;
}

export interface MemoryStats {
  time: string;
  workingSetBytes: number;
}

export interface ContainerStats {
  name: string;
  /** When this instance of the container was created (a restart makes a new instance). */
  startTime: string;
  cpu?: CpuStats;
  memory?: MemoryStats;
}

export interface PodStats {
  podRef: { name: string; namespace: string; uid: string };
  containers: ContainerStats[];
}

export interface Summary {
  node: { nodeName: string; cpu?: CpuStats; memory?: MemoryStats };
  pods: PodStats[];
}
