/**
 * The gate in front of RunPodSandbox, the heaviest runtime call of a pod start (network namespace,
 * CNI plugins, pause container, shim): at most `slots` run at once, and a waiting call of an older pod
 * (lower `priority`: the order the kubelet first saw the pods in) goes first.
 *
 * Why: on a small node containerd's throughput is what it is (on 2 vCPUs about one sandbox per
 * 0.1 s). When 20 pods start at once and every sandbox goes straight in, the runtime shares itself
 * among all of them and they all become Running near the end, together. With a few in flight, oldest
 * first, the early pods get their sandboxes (and then their containers, which are not gated) while the
 * later ones wait: the same total work, a lower median.
 *
 * A call that holds its slot longer than `maxHoldMs` (a slow CNI plugin, a runtime under strain) gives
 * the slot up while it goes on, so one stuck call never holds up the pods behind it for long.
 */
export class StartGate {
  private inFlight = 0;
  private readonly waiting: { priority: number; order: number; go: () => void }[] = [];
  private order = 0;

  constructor(
    private readonly slots: number,
    private readonly maxHoldMs: number,
  ) {}

  /** Runs `op` once a slot is free (oldest pod first). */
  async run<T>(priority: number, op: () => Promise<T>): Promise<T> {
    await this.acquire(priority);
    let held = true;
    const release = (): void => {
      if (!held) return;
      held = false;
      clearTimeout(timer);
      this.release();
    };
    const timer = setTimeout(release, this.maxHoldMs);
    timer.unref?.();
    try {
      return await op();
    } finally {
      release();
    }
  }

  /** Calls running now and calls waiting (tests, logs). */
  get load(): { inFlight: number; waiting: number } {
    return { inFlight: this.inFlight, waiting: this.waiting.length };
  }

  private acquire(priority: number): Promise<void> {
    if (this.inFlight < this.slots) {
      this.inFlight++;
      return Promise.resolve();
    }
    return new Promise((go) => {
      const w = { priority, order: this.order++, go };
      let i = this.waiting.length;
      while (i > 0 && this.isAfter(this.waiting[i - 1]!, w)) i--;
      this.waiting.splice(i, 0, w);
    });
  }

  private isAfter(a: { priority: number; order: number }, b: { priority: number; order: number }): boolean {
    return a.priority > b.priority || (a.priority === b.priority && a.order > b.order);
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next.go();
    else this.inFlight--;
  }
}
