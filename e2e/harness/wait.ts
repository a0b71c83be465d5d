/** Polling and watch helpers for e2e scenarios. */
import { waitFor } from '../../core/testing/wait.ts';
import type { KubectlRunner } from './kubectl.ts';

/** Polls `check` until it returns a truthy value (e2e defaults: 30 s, every 200 ms). */
export const eventually = <T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 30_000,
  everyMs = 200,
): Promise<NonNullable<T>> => waitFor(what, check, ms, everyMs);

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
