/**
 * First paint: the list on screen subscribes alone; the other lists (sidebar counts, other views)
 * wait behind a gate until the first one's first page is in (or it failed, or a timeout passed), so
 * they do not compete with it for the API server, the socket and the page's thread.
 */
import { watch, type ShallowRef } from 'vue';

/**
 * Sets `gate` to true once `done()` is true or after `timeoutMs`; it then stays true. Call it after
 * everything `done` reads exists (a watch tracks only what its first run reads).
 */
export function openGateWhen(gate: ShallowRef<boolean>, done: () => boolean, timeoutMs: number): void {
  if (gate.value) return;
  if (done()) {
    gate.value = true;
    return;
  }
  const release = (): void => {
    gate.value = true;
    clearTimeout(timer);
    stop();
  };
  const timer = setTimeout(release, timeoutMs);
  const stop = watch(done, (d) => {
    if (d) release();
  });
}
