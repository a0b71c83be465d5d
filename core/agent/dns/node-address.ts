/**
 * Gives the node the cluster DNS address itself, so every pod's queries to 10.96.0.10 are served by
 * its own node: a dummy interface `berth-dns` holding 10.96.0.10/32 (the kernel's local route for it
 * is looked up before the main table's `unreachable 10.96.0.0/12`). Where the kernel has no dummy
 * link type (some sandboxes), the address goes on `lo`, which routes the same way.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { isIPv4 } from 'node:net';

export const DNS_LINK = 'berth-dns';

/** Runs `ip` with the arguments; rejects with its stderr. */
export type IpRunner = (args: string[]) => Promise<void>;

const runIp: IpRunner = async (args) => {
  await promisify(execFile)('ip', args);
};

const message = (e: unknown): string => {
  const err = e as { stderr?: string; message?: string };
  return `${err.stderr ?? ''} ${err.message ?? ''}`;
};

/** Puts `ip` on the node; resolves the link that holds it. Idempotent. */
export async function ensureLocalAddress(ip: string, run: IpRunner = runIp): Promise<string> {
  let link = DNS_LINK;
  try {
    await run(['link', 'add', DNS_LINK, 'type', 'dummy']);
  } catch (e) {
    const why = message(e);
    if (/unknown device type|not supported|no such device/i.test(why)) link = 'lo';
    else if (!/file exists/i.test(why))
      throw new Error(`ip link add ${DNS_LINK}: ${why.trim()}`, { cause: e });
  }
  await run(['addr', 'replace', `${ip}/${isIPv4(ip) ? 32 : 128}`, 'dev', link]);
  if (link !== 'lo') await run(['link', 'set', link, 'up']);
  return link;
}
