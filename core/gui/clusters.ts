/**
 * The clusters the GUI can show: built-in Berth clusters (a data dir with a `kubeconfig` written by
 * `berth up`) and every context of the user's kubeconfig ($KUBECONFIG, else ~/.kube/config). The GUI
 * only ever reaches them through their kubeconfig — it never opens a cluster's store.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from './kube-client.ts';
import type { ClusterInfo } from './contract.ts';

export interface ClusterRegistryOptions {
  /** Data dirs of built-in clusters to show (each may or may not be running); a function is asked anew each time. */
  dataDirs?: string[] | (() => string[]);
  /** Also show every context of the user's kubeconfig (default true). */
  userKubeconfig?: boolean;
  /** Environment to read KUBECONFIG/HOME from (tests). */
  env?: NodeJS.ProcessEnv;
}

interface Entry {
  info: Omit<ClusterInfo, 'status'>;
  load(): KubeConfig;
  kubeconfigYaml(): string;
}

function clusterNameOf(dataDir: string): string {
  try {
    const cfg = JSON.parse(readFileSync(join(dataDir, 'cluster.json'), 'utf8')) as { name?: unknown };
    if (typeof cfg.name === 'string' && cfg.name) return cfg.name;
  } catch {
    // no config yet: fall back to the folder name
  }
  return basename(dataDir);
}

/** Data dirs of every cluster under <app data>/clusters (for the desktop app). */
export function builtinDataDirs(clustersDir: string): string[] {
  try {
    return readdirSync(clustersDir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => join(clustersDir, d.name));
  } catch {
    return [];
  }
}

export class ClusterRegistry {
  private clients = new Map<string, KubeClient>();
  private opts: ClusterRegistryOptions;

  constructor(opts: ClusterRegistryOptions = {}) {
    this.opts = opts;
  }

  private entries(): Entry[] {
    const out: Entry[] = [];
    const dirs = typeof this.opts.dataDirs === 'function' ? this.opts.dataDirs() : (this.opts.dataDirs ?? []);
    for (const dir of dirs) {
      const path = join(dir, 'kubeconfig');
      if (!existsSync(path)) continue;
      const load = (): KubeConfig => {
        const kc = new KubeConfig();
        kc.loadFromFile(path);
        return kc;
      };
      let server: string;
      try {
        server = load().getCurrentCluster()?.server ?? '';
      } catch {
        continue; // half-written or broken kubeconfig: not listed
      }
      out.push({
        info: { id: `berth:${dir}`, name: clusterNameOf(dir), source: 'berth', server, dataDir: dir },
        load,
        kubeconfigYaml: () => readFileSync(path, 'utf8'),
      });
    }
    if (this.opts.userKubeconfig !== false) {
      const env = this.opts.env ?? process.env;
      const files = env['KUBECONFIG']
        ? env['KUBECONFIG'].split(delimiter).filter(Boolean)
        : [join(env['HOME'] ?? homedir(), '.kube', 'config')];
      for (const file of files) {
        if (!existsSync(file)) continue;
        const base = new KubeConfig();
        try {
          base.loadFromFile(file);
        } catch {
          continue;
        }
        for (const ctx of base.getContexts()) {
          const id = `kubeconfig:${ctx.name}`;
          if (out.some((e) => e.info.id === id)) continue; // first file wins, as kubectl merges
          const load = (): KubeConfig => {
            const kc = new KubeConfig();
            kc.loadFromFile(file);
            kc.setCurrentContext(ctx.name);
            return kc;
          };
          const info: Entry['info'] = {
            id,
            name: ctx.name,
            source: 'kubeconfig',
            server: base.getCluster(ctx.cluster)?.server ?? '',
          };
          if (ctx.namespace) info.namespace = ctx.namespace;
          out.push({
            info,
            load,
            kubeconfigYaml: () => {
              const kc = load();
              const cluster = kc.getCluster(ctx.cluster);
              const user = kc.getUser(ctx.user);
              const only = new KubeConfig();
              only.loadFromOptions({
                clusters: cluster ? [cluster] : [],
                users: user ? [user] : [],
                contexts: [ctx],
                currentContext: ctx.name,
              });
              return only.exportConfig();
            },
          });
        }
      }
    }
    return out;
  }

  async list(): Promise<ClusterInfo[]> {
    return Promise.all(
      this.entries().map(async (e) => ({
        ...e.info,
        status: (await this.client(e.info.id).ready()) ? ('running' as const) : ('unreachable' as const),
      })),
    );
  }

  private entry(id: string): Entry {
    const e = this.entries().find((x) => x.info.id === id);
    if (!e) throw new Error(`unknown cluster "${id}"`);
    return e;
  }

  /** A client for the cluster (cached per cluster and API server URL). */
  client(id: string): KubeClient {
    const e = this.entry(id);
    // Keyed by server too: `berth up` on the same data dir may come back on another port.
    const key = `${id}\n${e.info.server}`;
    let c = this.clients.get(key);
    if (!c) {
      c = new KubeClient(e.load());
      this.clients.set(key, c);
    }
    return c;
  }

  /** The cluster's kubeconfig, loaded (current context = the cluster). */
  kubeConfig(id: string): KubeConfig {
    return this.entry(id).load();
  }

  /** The kubeconfig file a merge writes to: the first of $KUBECONFIG, else ~/.kube/config. */
  userKubeconfigFile(): string {
    const env = this.opts.env ?? process.env;
    const first = (env['KUBECONFIG'] ?? '').split(delimiter).find(Boolean);
    return first ?? join(env['HOME'] ?? homedir(), '.kube', 'config');
  }

  /** The display name of a cluster. */
  nameOf(id: string): string {
    return this.entry(id).info.name;
  }

  exportKubeconfig(id: string): { yaml: string; fileName: string } {
    const e = this.entry(id);
    const safe = e.info.name.replace(/[^A-Za-z0-9._-]+/g, '-') || 'cluster';
    return { yaml: e.kubeconfigYaml(), fileName: `${safe}.kubeconfig` };
  }
}
