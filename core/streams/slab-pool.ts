/**
 * The process's free 64 KiB slabs for stream relays (SlabWriter, HeadroomPool). Shared, so the
 * slabs a bulk transfer had in flight (up to a few MiB: a 1 MiB queue each side) are reused by the
 * next read or the next session instead of becoming garbage — a relay that allocates per chunk
 * brings V8's external-memory GCs back. At most MAX_FREE are kept (8 MiB).
 */
export const SLAB_SIZE = 64 * 1024;
const MAX_FREE = 128;

const free: ArrayBuffer[] = [];
/** Slabs handed out and not yet given back (a second give of one is ignored). */
const lent = new WeakSet<ArrayBuffer>();

export function takeSlab(): ArrayBuffer {
  const ab = free.pop() ?? new ArrayBuffer(SLAB_SIZE);
  lent.add(ab);
  return ab;
}

/** Gives back a slab from takeSlab() that nothing uses any more; anything else is ignored. */
export function giveSlab(ab: ArrayBufferLike): void {
  if (!(ab instanceof ArrayBuffer) || !lent.has(ab)) return;
  lent.delete(ab);
  if (free.length < MAX_FREE) free.push(ab);
}

/** True for a slab currently lent out. */
export function isLentSlab(ab: ArrayBufferLike): boolean {
  return ab instanceof ArrayBuffer && lent.has(ab);
}

/** Free slabs kept (for tests). */
export function freeSlabCount(): number {
  return free.length;
}
