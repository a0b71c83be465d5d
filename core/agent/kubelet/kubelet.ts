/**
 * The kubelet's pod lifecycle for one node: watches the pods bound to the node (fieldSelector
 * spec.nodeName), keeps one serialized PodWorker per pod UID, re-syncs every pod periodically (status
 * freshness, probes, back-offs) and at once on events. At start, sandboxes of pods that no longer exist
 * are stopped and removed; pods that still exist are adopted by their sandbox's pod UID label, so
 * they keep running across agent restarts.
 */
import { readFileSync } from 'node:fs';
import type { KObject } from '../../api/object.ts';
import { StatusError } from '../../api/status.ts';
import { Reflector } from '../../client/reflector.ts';
import type { KubeClient, ResourceRef } from '../../client/types.ts';
import { isCriNotFound } from '../cri/client.ts';
import type { VolumeHost } from '../pod/volumes.ts';
import { teardownVolumes } from '../pod/volumes.ts';
import { Backoff } from './backoff.ts';
import {
  CONFIGMAPS,
  type KubeletContext,
  type KubeletServices,
  PODS,
  PVCS,
  PVS,
  SECRETS,
  SERVICES,
} from './context.ts';
import { EventRecorder } from './events.ts';
import { ImageManager } from './images.ts';
import { PodWorker } from './pod-worker.ts';
import { runtimeFingerprint } from './runtime-view.ts';
import { parseResolvConf, POD_UID_LABEL, type NodeDNS } from './sandbox-config.ts';
import { StartGate } from './start-gate.ts';
import { StatusWriter } from './status-writer.ts';

export type { KubeletContext } from './context.ts';

const SERVICE_CACHE_MS = 5_000;
/** A sandbox creation holding its gate slot longer than this lets the next one in (it goes on). */
const START_GATE_MAX_HOLD_MS = 2_000;

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

async function getOrUndefined(
  client: KubeClient,
  r: ResourceRef,
  ns: string,
  name: string,
): Promise<KObject | undefined> {
  try {
    return await client.get(r, ns, name);
  } catch (e) {
    if (e instanceof StatusError && e.code === 404) return undefined;
    throw e;
  }
}

function volumeHost(ctx: KubeletContext): VolumeHost {
  const c = ctx.client;
  return {
    rootDir: ctx.rootDir,
    nodeName: ctx.nodeName,
    hostIP: ctx.hostIP,
    getSecret: (ns, name) => getOrUndefined(c, SECRETS, ns, name),
    getConfigMap: (ns, name) => getOrUndefined(c, CONFIGMAPS, ns, name),
    getPersistentVolumeClaim: (ns, name) => getOrUndefined(c, PVCS, ns, name),
    getPersistentVolume: (name) => getOrUndefined(c, PVS, '', name),
    requestToken: async (ns, serviceAccount, audience, expirationSeconds) => {
      // serviceaccounts/<name>/token: the REST clients put `resource` into the path as given.
      const tokenRef: ResourceRef = {
        group: '',
        version: 'v1',
        resource: `serviceaccounts/${encodeURIComponent(serviceAccount)}/token`,
      };
      const r = await c.create(tokenRef, ns, {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        metadata: { name: serviceAccount, namespace: ns },
        spec: { audiences: audience ? [audience] : [], expirationSeconds },
      });
      const token = (r['status'] as { token?: string } | undefined)?.token;
      if (!token) throw new Error(`no token issued for service account ${ns}/${serviceAccount}`);
      return token;
    },
  };
}

/**
 * Services of `ns` plus the master service, cached briefly (service links are read at container start);
 * pods starting together share one list call per namespace.
 */
function serviceLister(client: KubeClient): (ns: string) => Promise<KObject[]> {
  const cache = new Map<string, { at: number; items: Promise<KObject[]> }>();
  const list = (ns: string): Promise<KObject[]> => {
    const hit = cache.get(ns);
    if (hit && Date.now() - hit.at < SERVICE_CACHE_MS) return hit.items;
    const entry = { at: Date.now(), items: client.list(SERVICES, ns).then((l) => l.items) };
    entry.items.catch(() => {
      if (cache.get(ns) === entry) cache.delete(ns);
    });
    cache.set(ns, entry);
    return entry.items;
  };
  return async (ns) => {
    const own = await list(ns).catch(() => []);
    if (ns === 'default') return own;
    const master = (await list('default').catch(() => [])).filter((s) => s.metadata.name === 'kubernetes');
    return [...master, ...own];
  };
}

export interface Kubelet {
  stop(): Promise<void>;
  /** Resolves once every pod worker has no sync pending (tests). */
  settled(): Promise<void>;
}

/** The node's resolv.conf with loopback-only nameservers replaced by one a pod can reach. */
export function podReachable(host: NodeDNS['host'], replacement: string | undefined): NodeDNS['host'] {
  if (!replacement || !host.servers.length || !host.servers.every((s) => /^127\./.test(s) || s === '::1'))
    return host;
  return { ...host, servers: [replacement] };
}

export function startKubelet(ctx: KubeletContext): Kubelet {
  const status = new StatusWriter(ctx.client, ctx.log);
  const host = volumeHost(ctx);
  const services: KubeletServices = {
    ctx,
    events: new EventRecorder(ctx.client, ctx.nodeName, ctx.log),
    images: new ImageManager(ctx.cri, host.getSecret),
    backoff: new Backoff(),
    volumeHost: host,
    dns: {
      clusterDomain: ctx.clusterDomain,
      clusterDNS: ctx.clusterDNS,
      host: podReachable(parseResolvConf(readOr('/etc/resolv.conf', '')), ctx.podReachableHostDNS),
    },
    status,
    startGate: new StartGate(ctx.startSlots ?? 5, START_GATE_MAX_HOLD_MS),
    nodeHosts: readOr('/etc/hosts', '127.0.0.1\tlocalhost\n'),
    services: serviceLister(ctx.client),
  };
  const workers = new Map<string, PodWorker>();
  let stopped = false;

  const workerFor = (pod: KObject): PodWorker | undefined => {
    const uid = pod.metadata.uid;
    if (!uid || stopped) return undefined;
    let w = workers.get(uid);
    if (!w) {
      w = new PodWorker(pod, services, (u) => workers.delete(u));
      workers.set(uid, w);
    }
    return w;
  };

  const reflector = new Reflector(ctx.client, PODS, {
    fieldSelector: `spec.nodeName=${ctx.nodeName}`,
    onError: (e) => ctx.log(`pod watch: ${e.message}`),
  });
  reflector.addHandlers({
    add: (pod) => workerFor(pod)?.update(pod),
    update: (old, pod) => {
      if (old.metadata.uid !== pod.metadata.uid && old.metadata.uid) workers.get(old.metadata.uid)?.remove();
      void workerFor(pod)?.update(pod);
    },
    delete: (pod) => void workers.get(pod.metadata.uid ?? '')?.remove(),
  });

  // The pod lifecycle event generator: one relist of the runtime per period; a pod whose sandboxes or
  // containers changed state is synced at once (exits, OOM kills, runtime restarts) unless its worker
  // already knows that state (it made the change itself, or read it since).
  const fingerprints = new Map<string, string>();
  let relisting = false;
  const relist = async (): Promise<void> => {
    if (relisting || stopped) return;
    relisting = true;
    try {
      const [sandboxes, containers] = await Promise.all([ctx.cri.listPodSandbox(), ctx.cri.listContainers()]);
      const seen = new Map<string, { s: typeof sandboxes; c: typeof containers }>();
      const of = (uid: string): { s: typeof sandboxes; c: typeof containers } => {
        let e = seen.get(uid);
        if (!e) seen.set(uid, (e = { s: [], c: [] }));
        return e;
      };
      for (const sb of sandboxes) of(sb.labels[POD_UID_LABEL] ?? '').s.push(sb);
      for (const c of containers) of(c.labels[POD_UID_LABEL] ?? '').c.push(c);
      for (const [uid, w] of workers) {
        const e = seen.get(uid);
        const fp = runtimeFingerprint(e?.s ?? [], e?.c ?? []);
        // A pod with nothing in the runtime yet is being started by its worker: no news.
        if ((fingerprints.get(uid) ?? '') === fp) continue;
        fingerprints.set(uid, fp);
        if (w.runtimeFingerprint() !== fp) void w.kick();
      }
      for (const uid of [...fingerprints.keys()]) if (!workers.has(uid)) fingerprints.delete(uid);
    } catch (e) {
      ctx.log(`runtime relist: ${(e as Error).message}`);
    } finally {
      relisting = false;
    }
  };
  const relistTimer = setInterval(() => void relist(), ctx.relistMs ?? 1000);
  relistTimer.unref?.();

  const started = (async () => {
    await reflector.start();
    await removeOrphans(ctx, host, new Set(reflector.list().map((p) => p.metadata.uid ?? '')));
  })().catch((e: unknown) => ctx.log(`kubelet start: ${(e as Error).stack ?? String(e)}`));

  return {
    async stop() {
      stopped = true;
      clearInterval(relistTimer);
      reflector.stop();
      await started;
      for (const w of workers.values()) w.stop();
      workers.clear();
      await services.events.flush();
    },
    async settled() {
      await started;
      await Promise.all([...workers.values()].map((w) => w.kick()));
      await services.events.flush();
    },
  };
}

/** Stops and removes the sandboxes (and volumes) of pods this node no longer runs. */
async function removeOrphans(ctx: KubeletContext, host: VolumeHost, live: Set<string>): Promise<void> {
  const cri = ctx.cri;
  const gone = async (p: Promise<unknown>): Promise<void> => {
    try {
      await p;
    } catch (e) {
      if (!isCriNotFound(e)) throw e;
    }
  };
  for (const sb of await cri.listPodSandbox()) {
    const uid = sb.labels[POD_UID_LABEL];
    if (!uid || live.has(uid)) continue;
    ctx.log(
      `removing the sandbox of pod ${sb.metadata?.namespace ?? ''}/${sb.metadata?.name ?? ''} (${uid}): the pod is gone`,
    );
    for (const c of await cri.listContainers({ podSandboxId: sb.id })) {
      if (c.state === 'CONTAINER_RUNNING') await gone(cri.stopContainer(c.id, 0));
      await gone(cri.removeContainer(c.id));
    }
    await gone(cri.stopPodSandbox(sb.id));
    await gone(cri.removePodSandbox(sb.id));
    await teardownVolumes(uid, host).catch((e: unknown) =>
      ctx.log(`volumes of ${uid}: ${(e as Error).message}`),
    );
  }
}
