/** Polling and watch helpers for e2e scenarios. */
import type { KubectlRunner } from './kubectl.ts';

/** Polls `check` until it returns true (or a truthy value), failing after `ms` with `what`. */
export async function eventually<T>(
  what: string,
  check: () => T | Promise<T>,
  ms = 30_000,
  everyMs = 200,
): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end)
      throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Runs a long-lived kubectl command (e.g. `get -w`) and collects its output until stopped. */
export function watchLines(k: KubectlRunner, args: string[]): { output(): string; stop(): void } {
  const { child, output } = k.spawn(args);
  return {
    output,
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}
