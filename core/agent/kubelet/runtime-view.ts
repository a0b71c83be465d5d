/**
 * What a pod worker last knew of its pod in the runtime (sandbox and container ids with their states),
 * in the same form as the kubelet's periodic relist sees it. The relist syncs a pod only when the
 * runtime shows something its worker does not know yet: a container that exited, a sandbox that
 * died. The sandboxes and containers the worker made itself, and what it read itself, need no sync.
 */

interface RuntimeItem {
  id: string;
  state: string;
}

/** One pod's runtime state as a comparable string. */
export function runtimeFingerprint(sandboxes: RuntimeItem[], containers: RuntimeItem[]): string {
  return [...sandboxes.map((s) => `s${s.id}:${s.state}`), ...containers.map((c) => `c${c.id}:${c.state}`)]
    .sort()
    .join(',');
}

export class RuntimeView {
  private readonly sandboxes = new Map<string, string>();
  private readonly containers = new Map<string, string>();
  /** Something happened whose outcome the worker did not read back (a stop, an error). */
  private unsure = true;

  /** The pod's sandboxes as just listed. */
  listedSandboxes(items: RuntimeItem[]): void {
    this.sandboxes.clear();
    for (const s of items) this.sandboxes.set(s.id, s.state);
  }

  /** The pod's containers as just listed; the view is exact again. */
  listedContainers(items: RuntimeItem[]): void {
    this.containers.clear();
    for (const c of items) this.containers.set(c.id, c.state);
    this.unsure = false;
  }

  sandbox(id: string, state: 'SANDBOX_READY' | 'SANDBOX_NOTREADY' | undefined): void {
    if (state) this.sandboxes.set(id, state);
    else this.sandboxes.delete(id);
  }

  container(id: string, state: 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | undefined): void {
    if (state) this.containers.set(id, state);
    else this.containers.delete(id);
  }

  /** The next relist must sync the pod whatever it shows. */
  invalidate(): void {
    this.unsure = true;
  }

  /** The fingerprint the relist would compute if the runtime matches what the worker knows. */
  fingerprint(): string | undefined {
    if (this.unsure) return undefined;
    return runtimeFingerprint(
      [...this.sandboxes].map(([id, state]) => ({ id, state })),
      [...this.containers].map(([id, state]) => ({ id, state })),
    );
  }
}
