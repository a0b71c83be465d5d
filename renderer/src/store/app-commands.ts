/**
 * The desktop menu's commands (AppCommandMessage from the Electron shell): the renderer does what the
 * matching buttons do — the same contract requests, the same download path.
 */
import type { AppCommand, Method, Params, Result } from '../../../electron/contract.ts';

export interface AppCommandDeps {
  showClusters(): void;
  /** The chosen cluster ('' when none). */
  cluster(): string;
  request<M extends Method>(method: M, params: Params<M>): Promise<Result<M>>;
  download(fileName: string, text: string, type: string): void;
  fail(message: string): void;
}

export async function runAppCommand(command: AppCommand, deps: AppCommandDeps): Promise<void> {
  switch (command) {
    case 'new-cluster':
    case 'show-clusters':
      deps.showClusters();
      return;
    case 'export-kubeconfig': {
      const cluster = deps.cluster();
      if (!cluster) return deps.fail('no cluster to export: create or choose one first');
      try {
        const k = await deps.request('kubeconfig.export', { cluster });
        deps.download(k.fileName, k.yaml, 'application/yaml');
      } catch (e) {
        deps.fail(e instanceof Error ? e.message : String(e));
      }
    }
  }
}
