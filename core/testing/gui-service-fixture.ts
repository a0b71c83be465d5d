/**
 * Test support (imported by tests only): a simulated-node cluster in a temporary data dir and a GUI
 * service session on it, as `berth serve` would open one (the data dir's kubeconfig over HTTPS).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type RunningCluster } from '../cluster/cluster.ts';
import { ClusterRegistry } from '../gui/clusters.ts';
import { GuiService, type GuiSession } from '../gui/service.ts';
import type { EventMessage } from '../gui/contract.ts';

export interface GuiServiceFixture {
  dir: string;
  home: string;
  cluster: RunningCluster;
  service: GuiService;
  session: GuiSession;
  /** Every message the session pushed, in order. */
  events: EventMessage[];
  stop(): Promise<void>;
}

export async function startGuiServiceFixture(prefix: string): Promise<GuiServiceFixture> {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const home = mkdtempSync(join(tmpdir(), `${prefix}-home-`));
  const cluster = await startCluster({ dataDir: dir, apiPort: 0, driver: 'simulated', nodes: 1 });
  const service = new GuiService({
    registry: new ClusterRegistry({ dataDirs: [dir], env: { HOME: home } }),
    watch: { batchMs: 10 },
  });
  const events: EventMessage[] = [];
  const session = service.openSession((m) => events.push(m));
  return {
    dir,
    home,
    cluster,
    service,
    session,
    events,
    async stop() {
      session.close();
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    },
  };
}
