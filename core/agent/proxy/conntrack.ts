/**
 * UDP conntrack clean-up after a rule change (kube-proxy's deleteUDPEndpointConnections and
 * "service went from no endpoints to some"): UDP has no connection end, so an entry that DNATs a
 * client's flow to an endpoint that is gone would keep black-holing it; and an entry recorded while
 * the service had no endpoint (rejected or unNATed) would keep the flow from ever being DNATed.
 * Returns the `conntrack` argument lists to run (pure).
 */
import { usableEndpoints, type ServicePort } from './model.ts';

const spKey = (sp: ServicePort): string => `${sp.key}/${sp.protocol}`;

export function conntrackCleanups(prev: ServicePort[], next: ServicePort[], nodeName: string): string[][] {
  const before = new Map(prev.filter((p) => p.protocol === 'UDP').map((p) => [spKey(p), p]));
  const out: string[][] = [];
  for (const sp of next) {
    if (sp.protocol !== 'UDP') continue;
    const old = before.get(spKey(sp));
    before.delete(spKey(sp));
    const nowIPs = new Set(usableEndpoints(sp).map((e) => e.ip));
    const localNow = usableEndpoints(sp, nodeName).length;
    if (!old) continue;
    const oldEps = usableEndpoints(old);
    if (!oldEps.length && nowIPs.size) {
      for (const ip of sp.clusterIPs)
        out.push(['-D', '-p', 'udp', '--orig-dst', ip, '--orig-port-dst', String(sp.port)]);
      if (sp.nodePort !== undefined && (!sp.externalLocal || localNow))
        out.push(['-D', '-p', 'udp', '--orig-port-dst', String(sp.nodePort)]);
    }
    for (const e of oldEps) if (!nowIPs.has(e.ip)) out.push(...flowsTo(old, e.ip));
  }
  // Service ports that went away altogether.
  for (const old of before.values()) for (const e of usableEndpoints(old)) out.push(...flowsTo(old, e.ip));
  return out;
}

function flowsTo(sp: ServicePort, endpointIP: string): string[][] {
  const out = sp.clusterIPs.map((ip) => ['-D', '-p', 'udp', '--orig-dst', ip, '--dst-nat', endpointIP]);
  if (sp.nodePort !== undefined)
    out.push(['-D', '-p', 'udp', '--orig-port-dst', String(sp.nodePort), '--dst-nat', endpointIP]);
  return out;
}
