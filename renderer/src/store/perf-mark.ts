/**
 * Performance marks (`berth:*`) that let bench/gui-list.ts break the first paint down. Only the latest
 * mark of a name is kept, so marks made again (reconnects, refreshes) do not pile up.
 */
export function mark(name: string): void {
  performance.clearMarks(name);
  performance.mark(name);
}
