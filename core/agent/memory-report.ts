/**
 * The agent's memory on demand: on SIGUSR2 (and every BERTH_AGENT_MEMORY_LOG seconds when that is set)
 * it logs one line "memory {json}" with the process's resident memory from /proc (RSS, anonymous,
 * file-backed, Pss and USS from smaps_rollup) and V8's view (heap spaces, code, external memory).
 * bench/idle-rss.ts reads it; nothing else depends on it.
 */
import { readFileSync } from 'node:fs';
import { getHeapCodeStatistics, getHeapSpaceStatistics } from 'node:v8';

/** One report, sizes in KiB. */
export interface MemoryReport {
  /** From /proc/self/status and /proc/self/smaps_rollup (absent where /proc lacks them). */
  proc: Record<string, number>;
  /** process.memoryUsage(). */
  usage: Record<string, number>;
  /** V8 heap spaces: size committed, size used. */
  spaces: Record<string, [number, number]>;
  /** Bytecode, machine code, script sources (V8's code statistics). */
  code: Record<string, number>;
}

const kib = (bytes: number): number => Math.round(bytes / 1024);

/** "Key:   123 kB" lines of a /proc file, for the keys asked. */
export function procFields(text: string, keys: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(\w+):\s+(\d+) kB$/.exec(line);
    if (m?.[1] && m[2] && keys.includes(m[1])) out[m[1]] = Number(m[2]);
  }
  return out;
}

function readProc(path: string, keys: readonly string[]): Record<string, number> {
  try {
    return procFields(readFileSync(path, 'utf8'), keys);
  } catch {
    return {};
  }
}

export function memoryReport(): MemoryReport {
  const proc = {
    ...readProc('/proc/self/status', ['VmRSS', 'RssAnon', 'RssFile']),
    ...readProc('/proc/self/smaps_rollup', ['Pss', 'Private_Clean', 'Private_Dirty']),
  };
  if (proc['Private_Clean'] !== undefined && proc['Private_Dirty'] !== undefined)
    proc['USS'] = proc['Private_Clean'] + proc['Private_Dirty'];
  const usage = Object.fromEntries(Object.entries(process.memoryUsage()).map(([k, v]) => [k, kib(v)]));
  const spaces: MemoryReport['spaces'] = {};
  for (const s of getHeapSpaceStatistics())
    spaces[s.space_name] = [kib(s.space_size), kib(s.space_used_size)];
  const c = getHeapCodeStatistics();
  const code = {
    code: kib(c.code_and_metadata_size),
    bytecode: kib(c.bytecode_and_metadata_size),
    scriptSource: kib(c.external_script_source_size),
  };
  return { proc, usage, spaces, code };
}

/** Logs a report on SIGUSR2 and every `everySeconds` (0: never). Returns a stop function. */
export function startMemoryReports(log: (m: string) => void, everySeconds: number): () => void {
  const report = (): void => log(`memory ${JSON.stringify(memoryReport())}`);
  process.on('SIGUSR2', report);
  const timer = everySeconds > 0 ? setInterval(report, everySeconds * 1000) : undefined;
  timer?.unref();
  return () => {
    process.off('SIGUSR2', report);
    if (timer) clearInterval(timer);
  };
}
