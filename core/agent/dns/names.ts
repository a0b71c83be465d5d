/**
 * Domain-name helpers of the cluster DNS: the canonical (lower-case, no trailing dot) form of a name,
 * reverse names of IP addresses (in-addr.arpa / ip6.arpa) and back, and the dashed form of an address
 * used in pod records (`10-244-1-5.default.pod.cluster.local`) and for endpoints without a hostname.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** "Kubia.Default.SVC.cluster.local." → "kubia.default.svc.cluster.local". */
export const canonical = (name: string): string => name.toLowerCase().replace(/\.+$/, '');

/** True when `name` is `zone` or below it (both canonical). */
export const inZone = (name: string, zone: string): boolean => name === zone || name.endsWith(`.${zone}`);

/** The labels of `name` above `zone` (leftmost first): ("a.b.cluster.local", "cluster.local") → [a, b]. */
export function labelsAbove(name: string, zone: string): string[] {
  if (name === zone) return [];
  return name.slice(0, name.length - zone.length - 1).split('.');
}

/** The 32 hex digits of an IPv6 address, most significant first. */
function ipv6Nibbles(ip: string): string[] {
  const [head = '', tail] = ip.split('::');
  const groups = (s: string): string[] => (s ? s.split(':') : []);
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return all.flatMap((g) => g.padStart(4, '0').toLowerCase().split(''));
}

/** "10.96.0.10" → "10.0.96.10.in-addr.arpa"; IPv6 → nibble form under ip6.arpa. */
export function reverseName(ip: string): string | undefined {
  if (isIPv4(ip)) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  if (isIPv6(ip) && !ip.includes('.')) return `${ipv6Nibbles(ip).reverse().join('.')}.ip6.arpa`;
  return undefined;
}

/** The address a full reverse name stands for, or undefined (partial or malformed names). */
export function ipOfReverseName(name: string): string | undefined {
  const labels = name.split('.');
  if (name.endsWith('.in-addr.arpa') && labels.length === 6) {
    const ip = labels.slice(0, 4).reverse().join('.');
    return isIPv4(ip) && labels.slice(0, 4).every((l) => String(Number(l)) === l) ? ip : undefined;
  }
  if (name.endsWith('.ip6.arpa') && labels.length === 34) {
    const nibbles = labels.slice(0, 32).reverse();
    if (!nibbles.every((n) => /^[0-9a-f]$/.test(n))) return undefined;
    const groups: string[] = [];
    for (let i = 0; i < 32; i += 4)
      groups.push(
        nibbles
          .slice(i, i + 4)
          .join('')
          .replace(/^0{1,3}/, ''),
      );
    return groups.join(':');
  }
  return undefined;
}

/** "10.244.1.5" → "10-244-1-5"; "fd00::5" → "fd00--5" (as CoreDNS writes them). */
export const dashed = (ip: string): string => ip.replace(/[.:]/g, '-');

/** The address of a dashed pod label ("10-244-1-5"), or undefined when it is not one. */
export function ipOfDashed(label: string): string | undefined {
  const v4 = label.replace(/-/g, '.');
  if (isIPv4(v4) && v4.split('.').every((l) => String(Number(l)) === l)) return v4;
  const v6 = label.replace(/-/g, ':');
  return isIPv6(v6) ? v6 : undefined;
}
