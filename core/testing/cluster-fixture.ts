/**
 * An in-process cluster for one test file: started in a fresh data dir before the file's tests, stopped
 * and removed after them (node:test hooks), with a client acting as the controller manager (or as the
 * user given) and a helper that makes a namespace and waits for its default ServiceAccount.
 */
import { after, before } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InProcessClient, type ResourceRef } from '../client/in-process.ts';
import {
  CONTROLLER_MANAGER_USER,
  type RunningCluster,
  startCluster,
  type StartClusterOptions,
} from '../cluster/cluster.ts';
import { waitFor } from './wait.ts';

const NAMESPACES: ResourceRef = { group: '', version: 'v1', resource: 'namespaces' };
const SERVICE_ACCOUNTS: ResourceRef = { group: '', version: 'v1', resource: 'serviceaccounts' };

async function defaultServiceAccount(client: InProcessClient, namespace: string): Promise<void> {
  await waitFor('default service account', () => client.get(SERVICE_ACCOUNTS, namespace, 'default'));
}

export interface TestUser {
  username: string;
  groups: string[];
}

export const CONTROLLER_MANAGER: TestUser = {
  username: CONTROLLER_MANAGER_USER,
  groups: ['system:authenticated'],
};

export interface ClusterFixture {
  /** Set once the file's `before` hooks ran. */
  readonly cluster: RunningCluster;
  readonly client: InProcessClient;
  readonly dir: string;
  /** Creates a namespace and waits until its default ServiceAccount exists. */
  namespace(name: string): Promise<void>;
}

export interface FixtureOptions {
  /** Who the client acts as (default: the controller manager). */
  user?: TestUser;
  /** Waits in before() until this namespace's default ServiceAccount exists (pods need it). */
  serviceAccountIn?: string;
  /** Runs inside the same before() hook once the cluster is up (e.g. to keep its client in a variable). */
  ready?: (fixture: ClusterFixture) => void | Promise<void>;
}

export function clusterFixture(
  prefix: string,
  options: Omit<StartClusterOptions, 'dataDir' | 'apiPort'> = {},
  { user = CONTROLLER_MANAGER, serviceAccountIn, ready }: FixtureOptions = {},
): ClusterFixture {
  let state: { cluster: RunningCluster; client: InProcessClient; dir: string } | undefined;
  const get = (): NonNullable<typeof state> => {
    if (!state) throw new Error('clusterFixture: used before its before() hook ran');
    return state;
  };
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    const cluster = await startCluster({ ...options, dataDir: dir, apiPort: 0 });
    state = { dir, cluster, client: new InProcessClient(cluster.server, user) };
    if (serviceAccountIn) await defaultServiceAccount(state.client, serviceAccountIn);
    await ready?.(fixture);
  });
  after(async () => {
    await state?.cluster.stop();
    if (state) rmSync(state.dir, { recursive: true, force: true });
  });
  const fixture: ClusterFixture = {
    get cluster() {
      return get().cluster;
    },
    get client() {
      return get().client;
    },
    get dir() {
      return get().dir;
    },
    async namespace(name: string): Promise<void> {
      const { client } = get();
      client.create(NAMESPACES, '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
      await defaultServiceAccount(client, name);
    },
  };
  return fixture;
}
