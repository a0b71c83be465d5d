/**
 * How much privilege a node container gets: `--privileged` when this machine's bounding set holds
 * every capability the kernel knows (the normal case, and Docker Desktop's VM), otherwise --cap-add of
 * exactly the capabilities in the bounding set (sandboxes lacking e.g. CAP_SYS_RESOURCE, where
 * `--privileged` fails with "unable to apply caps").
 */
import { readFileSync } from 'node:fs';

/** Linux capability names by number (capability(7)). */
export const CAPABILITY_NAMES = [
  'CHOWN',
  'DAC_OVERRIDE',
  'DAC_READ_SEARCH',
  'FOWNER',
  'FSETID',
  'KILL',
  'SETGID',
  'SETUID',
  'SETPCAP',
  'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE',
  'NET_BROADCAST',
  'NET_ADMIN',
  'NET_RAW',
  'IPC_LOCK',
  'IPC_OWNER',
  'SYS_MODULE',
  'SYS_RAWIO',
  'SYS_CHROOT',
  'SYS_PTRACE',
  'SYS_PACCT',
  'SYS_ADMIN',
  'SYS_BOOT',
  'SYS_NICE',
  'SYS_RESOURCE',
  'SYS_TIME',
  'SYS_TTY_CONFIG',
  'MKNOD',
  'LEASE',
  'AUDIT_WRITE',
  'AUDIT_CONTROL',
  'SETFCAP',
  'MAC_OVERRIDE',
  'MAC_ADMIN',
  'SYSLOG',
  'WAKE_ALARM',
  'BLOCK_SUSPEND',
  'AUDIT_READ',
  'PERFMON',
  'BPF',
  'CHECKPOINT_RESTORE',
] as const;

export interface CapabilityPlan {
  privileged: boolean;
  /** Capabilities to add when not privileged (names without CAP_). */
  capAdd: string[];
  /** Known capabilities missing from the bounding set. */
  missing: string[];
}

function readOr(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Plans from /proc/self/status CapBnd (and /proc/sys/kernel/cap_last_cap); privileged off Linux. */
export function capabilityPlan(
  status = readOr('/proc/self/status'),
  lastCap = readOr('/proc/sys/kernel/cap_last_cap'),
): CapabilityPlan {
  const m = status && /^CapBnd:\s*([0-9a-f]+)$/m.exec(status);
  if (!m?.[1]) return { privileged: true, capAdd: [], missing: [] };
  const bnd = BigInt(`0x${m[1]}`);
  const last = Math.min(Number(lastCap?.trim() ?? CAPABILITY_NAMES.length - 1), CAPABILITY_NAMES.length - 1);
  const capAdd: string[] = [];
  const missing: string[] = [];
  for (let i = 0; i <= last; i++) {
    const name = CAPABILITY_NAMES[i];
    if (!name) continue;
    if ((bnd >> BigInt(i)) & 1n) capAdd.push(name);
    else missing.push(name);
  }
  return { privileged: missing.length === 0, capAdd, missing };
}
