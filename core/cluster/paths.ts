/** Where clusters live on disk: the per-user app data folder, one folder per cluster. */
import { homedir, platform } from 'node:os';
import { join } from 'node:path';

export function appDataDir(): string {
  const home = homedir();
  switch (platform()) {
    case 'darwin':
      return join(home, 'Library', 'Application Support', 'Berth');
    case 'win32':
      return join(process.env['APPDATA'] ?? join(home, 'AppData', 'Roaming'), 'Berth');
    default:
      return join(process.env['XDG_DATA_HOME'] || join(home, '.local', 'share'), 'berth');
  }
}

export function defaultDataDir(name = 'default'): string {
  return join(appDataDir(), 'clusters', name);
}

export interface ClusterFiles {
  dir: string;
  db: string;
  kubeconfig: string;
  pidFile: string;
  config: string;
  /** Static bearer tokens (kube-apiserver --token-auth-file format), optional. */
  tokens: string;
}

export function clusterFiles(dir: string): ClusterFiles {
  return {
    dir,
    db: join(dir, 'berth.db'),
    kubeconfig: join(dir, 'kubeconfig'),
    pidFile: join(dir, 'berth.pid'),
    config: join(dir, 'cluster.json'),
    tokens: join(dir, 'tokens.csv'),
  };
}
