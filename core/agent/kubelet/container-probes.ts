/**
 * The probe state of a pod's running containers (the kubelet's prober manager): per container
 * instance a startup worker first, then liveness and readiness workers once started. Results become
 * `started` / `ready` and, on a liveness or startup failure, a kill reason; every result change asks
 * the pod worker for a sync. Failed checks are reported as Unhealthy events.
 */
import type { Container, Probe } from 'kubernetes-types/core/v1';
import type { CriClient } from '../cri/client.ts';
import { type ProbeKind, type ProbeTarget, ProbeWorker } from '../pod/probes.ts';

interface ProbeState {
  container: Container;
  target: ProbeTarget;
  workers: ProbeWorker[];
  started: boolean;
  ready: boolean;
  kill?: { reason: string; probe: Probe };
}

type EventFn = (
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
  c: { kind: 'init' | 'app'; name: string },
) => void;

export class ContainerProbes {
  private readonly byId = new Map<string, ProbeState>();

  constructor(
    private readonly cri: CriClient,
    private readonly changed: () => void,
    private readonly event: EventFn,
  ) {}

  /** Starts the probes of a running container instance (once per instance). */
  ensure(id: string, c: Container, podIP: string, kind: 'init' | 'app'): void {
    if (this.byId.has(id)) return;
    const target: ProbeTarget = {
      podIP,
      container: c,
      exec: async (cmd, timeoutSeconds) => {
        const r = await this.cri.execSync(id, cmd, timeoutSeconds);
        return { exitCode: r.exitCode, output: r.stdout.toString() + r.stderr.toString() };
      },
    };
    const st: ProbeState = { container: c, target, workers: [], started: !c.startupProbe, ready: false };
    this.byId.set(id, st);
    if (c.startupProbe) this.add(st, 'startup', c.startupProbe, kind);
    else this.afterStartup(st, kind);
  }

  private afterStartup(st: ProbeState, kind: 'init' | 'app'): void {
    const c = st.container;
    if (c.livenessProbe) this.add(st, 'liveness', c.livenessProbe, kind);
    if (c.readinessProbe) this.add(st, 'readiness', c.readinessProbe, kind);
    else st.ready = true;
  }

  private add(st: ProbeState, probeKind: ProbeKind, probe: Probe, kind: 'init' | 'app'): void {
    const name = st.container.name;
    const w = new ProbeWorker(
      probeKind,
      probe,
      st.target,
      (r) => {
        if (probeKind === 'readiness') st.ready = r.ok;
        else if (probeKind === 'startup' && r.ok) {
          st.started = true;
          this.afterStartup(st, kind);
        } else if (!r.ok) {
          st.kill = { reason: `failed ${probeKind} probe`, probe };
        }
        this.changed();
      },
      {
        onProbe: (r) => {
          if (r.outcome === 'failure') this.event('Warning', 'Unhealthy', r.message, { kind, name });
          else if (r.outcome === 'warning') this.event('Warning', 'ProbeWarning', r.message, { kind, name });
        },
      },
    );
    st.workers.push(w);
    w.start();
  }

  /** started/ready of a running instance (no probes: started, and ready unless a readiness probe says otherwise). */
  state(id: string, c: Container): { started: boolean; ready: boolean } {
    const st = this.byId.get(id);
    if (!st) return { started: !c.startupProbe, ready: !c.startupProbe && !c.readinessProbe };
    return { started: st.started, ready: st.started && st.ready };
  }

  /** Why the instance must be killed (a failed liveness or startup probe), if it must. */
  killReason(id: string): { reason: string; probe: Probe } | undefined {
    return this.byId.get(id)?.kill;
  }

  forget(id: string): void {
    const st = this.byId.get(id);
    if (!st) return;
    for (const w of st.workers) w.stop();
    this.byId.delete(id);
  }

  stopAll(): void {
    for (const id of [...this.byId.keys()]) this.forget(id);
  }
}
