/**
 * IPv4 CIDR arithmetic for NetworkPolicy ipBlocks: parsing, containment, and `cidr` minus its
 * `except` blocks as a list of CIDRs (so every allow stays a single `-s`/`-d` match, no marks).
 * IPv6 blocks are recognised and reported as such: the node programs IPv4 rules only.
 */

export interface Block {
  /** Network address as an unsigned 32-bit number. */
  base: number;
  bits: number;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function parseIPv4(ip: string): number | undefined {
  const m = IPV4.exec(ip);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return parts.reduce((acc, p) => acc * 256 + p, 0);
}

const mask = (bits: number): number => (bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0);

/** `10.0.0.0/8` (or a bare address, as /32) → its block, normalised to the network address. */
export function parseCIDR(cidr: string): Block | undefined {
  const [ip = '', len] = cidr.split('/');
  const addr = parseIPv4(ip);
  const bits = len === undefined ? 32 : Number(len);
  if (addr === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return undefined;
  return { base: (addr & mask(bits)) >>> 0, bits };
}

export const isIPv6 = (cidr: string): boolean => cidr.includes(':');

export function formatBlock(b: Block): string {
  const a = b.base;
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}/${b.bits}`;
}

/** Whether `inner` lies entirely inside `outer`. */
export function blockContains(outer: Block, inner: Block): boolean {
  return inner.bits >= outer.bits && (inner.base & mask(outer.bits)) >>> 0 === outer.base;
}

export function ipInBlock(ip: string, b: Block): boolean {
  const a = parseIPv4(ip);
  return a !== undefined && blockContains(b, { base: a, bits: 32 });
}

/** The two halves of a block (one bit longer). */
function halves(b: Block): [Block, Block] {
  const bits = b.bits + 1;
  return [
    { base: b.base, bits },
    { base: (b.base + 2 ** (32 - bits)) >>> 0, bits },
  ];
}

/** `block` without every block in `except`: the fewest CIDRs covering exactly the rest. */
export function subtractBlocks(block: Block, except: Block[]): Block[] {
  const inside = except.filter((e) => blockContains(block, e) || blockContains(e, block));
  if (inside.length === 0) return [block];
  if (inside.some((e) => blockContains(e, block))) return [];
  return halves(block).flatMap((h) => subtractBlocks(h, inside));
}

/** An ipBlock (`cidr` and `except`, as the API holds them) → IPv4 CIDR strings; [] for IPv6. */
export function ipBlockCIDRs(cidr: string, except: readonly string[] = []): string[] {
  if (isIPv6(cidr)) return [];
  const block = parseCIDR(cidr);
  if (!block) return [];
  const ex = except.filter((e) => !isIPv6(e)).flatMap((e) => parseCIDR(e) ?? []);
  return subtractBlocks(block, ex).map(formatBlock);
}
