/**
 * The node's CNI configuration: a bridge (`cni0`, the pods' gateway) with host-local addresses from
 * the node's pod CIDR, and portmap for hostPort. containerd's CRI plugin reads it from /etc/cni/net.d
 * and sets up each sandbox's network namespace with it (the loopback interface it brings up itself).
 * No IP masquerade in the bridge plugin: pod-to-pod traffic across nodes keeps pod addresses; the
 * agent masquerades only traffic leaving the cluster's pod range (see routes.ts).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const CNI_CONF_DIR = '/etc/cni/net.d';
export const CNI_CONF_FILE = '10-berth.conflist';
export const CNI_BRIDGE = 'cni0';

/** The conflist for a node owning `podCIDR`. */
export function cniConfList(podCIDR: string): Record<string, unknown> {
  return {
    cniVersion: '0.4.0',
    name: 'berth',
    plugins: [
      {
        type: 'bridge',
        bridge: CNI_BRIDGE,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: podCIDR }]],
          routes: [{ dst: '0.0.0.0/0' }],
        },
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ],
  };
}

/** Writes the conflist atomically (containerd watches the directory); returns whether it changed. */
export function writeCniConfig(podCIDR: string, dir = CNI_CONF_DIR): boolean {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, CNI_CONF_FILE);
  const text = `${JSON.stringify(cniConfList(podCIDR), null, 2)}\n`;
  let old = '';
  try {
    old = readFileSync(path, 'utf8');
  } catch {
    /* first write */
  }
  if (old === text) return false;
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
  return true;
}
