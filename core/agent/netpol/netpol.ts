/**
 * The agent's NetworkPolicy enforcer: Reflectors on NetworkPolicies, Pods and Namespaces (all
 * namespaces: peers may be anywhere) → the verdicts for this node's pods (model.ts) → one
 * `iptables-restore --noflush` of our own filter chains (rules.ts) per change, debounced by 50 ms,
 * and a full resync every 30 s that rewrites the chains even when nothing changed and re-adds the jump
 * from FORWARD if someone removed it. Rules stay in place when the agent stops: the pods keep running
 * and the next agent start takes the chains over.
 *
 * Bridged pod-to-pod traffic on this node reaches FORWARD only with bridge-nf-call-iptables on; it is
 * switched on here too (the service proxy needs it as well; writing 1 twice is harmless).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Reflector } from '../../client/reflector.ts';
import type { KubeClient, ResourceRef } from '../../client/types.ts';
import { localPodPolicies } from './model.ts';
import { ensureJump, iptablesRestore, iptablesSave } from './iptables.ts';
import { buildRestore, filterChains, HOOK } from './rules.ts';
import { driveFromReflectors, SyncLoop } from './sync-loop.ts';

const POLICIES: ResourceRef = { group: 'networking.k8s.io', version: 'v1', resource: 'networkpolicies' };
const PODS: ResourceRef = { group: '', version: 'v1', resource: 'pods' };
const NAMESPACES: ResourceRef = { group: '', version: 'v1', resource: 'namespaces' };

export interface NetworkPolicyOptions {
  client: KubeClient;
  nodeName: string;
  log: (m: string) => void;
  debounceMs?: number;
  resyncMs?: number;
}

export interface NetworkPolicyEnforcer {
  /** Resolves after the first successful sync. */
  readonly ready: Promise<void>;
  stop(): void;
}

function ensureBridgedTrafficFiltered(log: (m: string) => void): void {
  const path = '/proc/sys/net/bridge/bridge-nf-call-iptables';
  try {
    if (readFileSync(path, 'utf8').trim() !== '1') writeFileSync(path, '1');
  } catch (e) {
    log(
      `network policy: ${path}: ${(e as Error).message}; traffic between pods of this node is not filtered`,
    );
  }
}

export function startNetworkPolicy(opts: NetworkPolicyOptions): NetworkPolicyEnforcer {
  const { client, log } = opts;
  const onError = (what: string) => (e: Error) => log(`network policy: ${what} watch: ${e.message}`);
  const policies = new Reflector(client, POLICIES, { onError: onError('networkpolicy') });
  const pods = new Reflector(client, PODS, { onError: onError('pod') });
  const namespaces = new Reflector(client, NAMESPACES, { onError: onError('namespace') });
  const watchers = [policies, pods, namespaces];
  let lastText = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (markReady = r));

  let firstDone = false;
  const sync = async (resync: boolean): Promise<void> => {
    // Until every list is in, a policy without its peers would deny what it should allow.
    if (!watchers.every((r) => r.hasSynced)) return;
    const full = resync || !firstDone;
    const started = Date.now();
    if (full) ensureBridgedTrafficFiltered(log);
    const verdicts = localPodPolicies(
      { policies: policies.list(), pods: pods.list(), namespaces: namespaces.list() },
      opts.nodeName,
    );
    const text = buildRestore(verdicts, filterChains(await iptablesSave('filter')));
    if (text !== lastText || full) {
      await iptablesRestore(text);
      if (full) await ensureJump(HOOK);
      if (text !== lastText) {
        const rules = verdicts.reduce((n, v) => n + (v.ingress?.length ?? 0) + (v.egress?.length ?? 0), 0);
        log(
          `network policy: ${verdicts.length} isolated pods on this node, ${rules} allow rules, ` +
            `programmed in ${Date.now() - started} ms`,
        );
      }
      lastText = text;
    }
    firstDone = true;
    markReady();
  };
  const loop = new SyncLoop(sync, (e) => log(`network policy: sync failed: ${e.message}`), opts.debounceMs);

  const stop = driveFromReflectors(loop, watchers, {
    resyncMs: opts.resyncMs ?? 30_000,
    onListError: (e) => log(`network policy: initial list failed (${e.message}); retrying`),
  });
  return { ready, stop };
}
