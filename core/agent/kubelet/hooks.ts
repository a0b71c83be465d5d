/**
 * Container lifecycle hooks (postStart, preStop): exec in the container through CRI, httpGet against
 * the pod (or the given host), sleep. Returns an error message, or undefined on success.
 */
import type { Container, LifecycleHandler } from 'kubernetes-types/core/v1';
import type { CriClient } from '../cri/client.ts';
import { runExec, runHttpGet } from '../pod/probes.ts';

export async function runHook(
  cri: CriClient,
  handler: LifecycleHandler,
  containerId: string,
  container: Container,
  podIP: string,
  timeoutSeconds: number,
): Promise<string | undefined> {
  const target = {
    podIP,
    container,
    exec: async (cmd: string[], t: number) => {
      const r = await cri.execSync(containerId, cmd, t);
      return { exitCode: r.exitCode, output: r.stdout.toString() + r.stderr.toString() };
    },
  };
  const timeout = Math.max(1, timeoutSeconds);
  if (handler.exec) {
    const r = await runExec(handler.exec.command ?? [], target, timeout);
    if (r.result === 'success' || r.result === 'warning') return undefined;
    return `Exec lifecycle hook (${JSON.stringify(handler.exec.command ?? [])}) for Container "${container.name}" failed - error: ${r.output}`;
  }
  if (handler.httpGet) {
    const r = await runHttpGet(handler.httpGet, target, timeout);
    if (r.result === 'success' || r.result === 'warning') return undefined;
    return `HTTP lifecycle hook (${handler.httpGet.path ?? ''}) for Container "${container.name}" failed - error: ${r.output}`;
  }
  if (handler.sleep) {
    await new Promise((res) => setTimeout(res, Math.min(handler.sleep?.seconds ?? 0, timeout) * 1000));
    return undefined;
  }
  return undefined;
}
