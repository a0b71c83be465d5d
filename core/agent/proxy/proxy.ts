/**
 * The agent's service proxy (kube-proxy, iptables mode): Reflectors on Services, EndpointSlices and
 * Endpoints (the latter for selectorless Services only) → the service ports (model.ts) → one
 * `iptables-restore --noflush` of our own chains (rules.ts) per change, debounced by 50 ms, and a full
 * resync every 30 s that also re-adds the jumps from the built-in chains if someone removed them.
 * After each change, UDP conntrack entries of removed endpoints are deleted (conntrack.ts).
 *
 * The node's own traffic to cluster IPs: the route table says `unreachable` for the service range
 * (core/agent/network/routes.ts), which fails a local connect() before the nat OUTPUT chain could
 * DNAT it. A policy rule sends locally originated packets for the service range to a table of their
 * own (a route out of the node's interface); what is not DNATed there is rejected by BERTH-SERVICES in
 * filter OUTPUT, so it never leaves the node.
 */
import { execFile, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { Reflector } from '../../client/reflector.ts';
import type { KubeClient, ResourceRef } from '../../client/types.ts';
import { conntrackCleanups } from './conntrack.ts';
import { servicePorts, type ServicePort } from './model.ts';
import { buildRestore, chainsInSave, HOOKS } from './rules.ts';

const run = promisify(execFile);

const SERVICES: ResourceRef = { group: '', version: 'v1', resource: 'services' };
const SLICES: ResourceRef = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' };
const ENDPOINTS: ResourceRef = { group: '', version: 'v1', resource: 'endpoints' };

/** Routing table and rule priority for the node's own traffic to the service range. */
export const LOCAL_SERVICE_TABLE = 1500;

export interface ServiceProxyOptions {
  client: KubeClient;
  nodeName: string;
  /** The node's InternalIP (its interface carries the node's own service traffic). */
  nodeIP: string;
  clusterCIDR: string;
  serviceCIDR: string;
  log: (m: string) => void;
  debounceMs?: number;
  resyncMs?: number;
}

export interface ServiceProxy {
  stop(): void;
}

function restore(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('iptables-restore', ['-w', '5', '--noflush'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`iptables-restore exited ${code}: ${err.trim()}`)),
    );
    child.stdin.end(text);
  });
}

async function ensureHooks(): Promise<void> {
  for (const h of HOOKS) {
    try {
      await run('iptables', ['-w', '5', '-t', h.table, '-C', h.chain, ...h.rule]);
    } catch {
      await run('iptables', ['-w', '5', '-t', h.table, '-I', h.chain, '1', ...h.rule]);
    }
  }
}

/** Policy routing for locally originated service traffic (idempotent). */
async function ensureLocalRoute(nodeIP: string, serviceCIDR: string): Promise<void> {
  const { stdout: addrs } = await run('ip', ['-j', '-4', 'addr', 'show']);
  const dev = (JSON.parse(addrs) as { ifname: string; addr_info?: { local?: string }[] }[]).find((i) =>
    i.addr_info?.some((a) => a.local === nodeIP),
  )?.ifname;
  if (!dev) throw new Error(`no interface carries the node address ${nodeIP}`);
  const table = String(LOCAL_SERVICE_TABLE);
  await run('ip', ['route', 'replace', serviceCIDR, 'dev', dev, 'src', nodeIP, 'table', table]);
  const { stdout: rules } = await run('ip', ['-j', 'rule', 'show']);
  const present = (JSON.parse(rules) as { priority?: number; dst?: string; iif?: string }[]).some(
    (r) => r.priority === LOCAL_SERVICE_TABLE && r.iif === 'lo',
  );
  if (!present)
    await run('ip', ['rule', 'add', 'pref', table, 'to', serviceCIDR, 'iif', 'lo', 'lookup', table]);
}

/** Bridged pod-to-pod replies must pass iptables for service DNAT to be undone (br_netfilter). */
function ensureBridgeNetfilter(log: (m: string) => void): void {
  const path = '/proc/sys/net/bridge/bridge-nf-call-iptables';
  try {
    if (readFileSync(path, 'utf8').trim() !== '1') writeFileSync(path, '1');
  } catch (e) {
    log(`service proxy: cannot check ${path} (${(e as Error).message}); same-node service replies may fail`);
  }
}

export function startServiceProxy(opts: ServiceProxyOptions): ServiceProxy {
  const { client, log } = opts;
  const onError = (what: string) => (e: Error) => log(`service proxy: ${what} watch: ${e.message}`);
  const services = new Reflector(client, SERVICES, { onError: onError('service') });
  const slices = new Reflector(client, SLICES, { onError: onError('endpointslice') });
  const endpoints = new Reflector(client, ENDPOINTS, { onError: onError('endpoints') });
  let applied: ServicePort[] = [];
  let lastText = '';
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let again = false;
  let full = true;
  let stopped = false;

  const sync = async (): Promise<void> => {
    const forced = full;
    full = false;
    const started = Date.now();
    if (forced) {
      ensureBridgeNetfilter(log);
      await ensureLocalRoute(opts.nodeIP, opts.serviceCIDR).catch((e: unknown) =>
        log(`service proxy: local service route: ${(e as Error).message}`),
      );
    }
    const ports = servicePorts({
      services: services.list(),
      slices: slices.list(),
      endpoints: endpoints.list(),
    });
    const { stdout: save } = await run('iptables-save', []);
    const text = buildRestore(ports, {
      nodeName: opts.nodeName,
      clusterCIDR: opts.clusterCIDR,
      serviceCIDR: opts.serviceCIDR,
      existing: chainsInSave(save),
    });
    if (text !== lastText || forced) {
      await restore(text);
      if (forced) await ensureHooks();
      if (text !== lastText)
        log(
          `service proxy: ${ports.length} service ports, ` +
            `${ports.reduce((n, p) => n + p.endpoints.length, 0)} endpoints programmed in ${Date.now() - started} ms`,
        );
      lastText = text;
    }
    for (const args of conntrackCleanups(applied, ports, opts.nodeName))
      await run('conntrack', args).catch((e: { code?: unknown; message?: string }) => {
        if (e.code !== 1) log(`service proxy: conntrack ${args.join(' ')}: ${e.message ?? ''}`); // 1: none matched
      });
    applied = ports;
  };

  const watchers: Reflector[] = [services, slices, endpoints];
  const kick = (): void => {
    // Rules from half-listed state would reject services whose endpoints are not listed yet.
    if (stopped || !watchers.every((r) => r.hasSynced)) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    void sync()
      .catch((e: unknown) => {
        full = true; // start over from a clean slate next time
        log(`service proxy: sync failed: ${(e as Error).message}`);
        setTimeout(schedule, 1000).unref?.();
      })
      .finally(() => {
        running = false;
        if (again) {
          again = false;
          schedule();
        }
      });
  };
  function schedule(): void {
    if (timer || stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      kick();
    }, opts.debounceMs ?? 50);
  }

  const handlers = { add: schedule, update: schedule, delete: schedule };
  for (const r of watchers) r.addHandlers(handlers);
  const resync = setInterval(() => {
    full = true;
    schedule();
  }, opts.resyncMs ?? 30_000);
  resync.unref?.();
  const startWatching = (): void => {
    void Promise.all(watchers.map((r) => r.start())).then(
      () => schedule(),
      (e: unknown) => {
        log(`service proxy: initial list failed (${(e as Error).message}); retrying`);
        for (const r of watchers) if (!r.hasSynced) r.stop();
        if (!stopped) setTimeout(startWatching, 2000).unref?.();
      },
    );
  };
  startWatching();
  return {
    stop() {
      stopped = true;
      clearInterval(resync);
      if (timer) clearTimeout(timer);
      for (const r of watchers) r.stop();
    },
  };
}
