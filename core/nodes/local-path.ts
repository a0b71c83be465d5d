/**
 * The local-path provisioner ("berth.dev/local-path") behind the default StorageClass "standard": a
 * directory /var/lib/berth/local-path/<pvName> on the node the consuming pod was scheduled to
 * (volumeBindingMode WaitForFirstConsumer, so the PersistentVolume controller passes
 * volume.kubernetes.io/selected-node), exposed as a hostPath (type DirectoryOrCreate) with node affinity
 * to that node. provision() creates the directory world-writable (0777, as rancher's local-path
 * provisioner does, so pods that do not run as root can write: the hostPath plugin applies no fsGroup)
 * and delete() removes it, both on that node through an injected exec (the node driver's "run this
 * argv in node X").
 */
import type { KObject } from '../api/object.ts';
import type { ProvisionedVolume, Provisioner, ProvisionRequest } from './provisioner.ts';

export const LOCAL_PATH_PROVISIONER = 'berth.dev/local-path';
export const LOCAL_PATH_ROOT = '/var/lib/berth/local-path';
export const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
const HOSTNAME_LABEL = 'kubernetes.io/hostname';

/** Runs argv inside a node (e.g. docker exec). */
export type NodeExec = (nodeName: string, argv: string[]) => Promise<{ exitCode: number; stderr: string }>;

/** The node a local-path volume lives on: its nodeAffinity's kubernetes.io/hostname In [node]. */
export function localPathNode(pv: KObject): string | undefined {
  const spec = (pv['spec'] ?? {}) as {
    nodeAffinity?: {
      required?: {
        nodeSelectorTerms?: { matchExpressions?: { key: string; operator: string; values?: string[] }[] }[];
      };
    };
  };
  for (const t of spec.nodeAffinity?.required?.nodeSelectorTerms ?? [])
    for (const e of t.matchExpressions ?? [])
      if (e.key === HOSTNAME_LABEL && e.operator === 'In' && e.values?.length === 1) return e.values[0];
  return undefined;
}

/** PV names are DNS subdomains; anything else must never reach a path. */
function safeName(name: string): boolean {
  return /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) && !name.includes('..');
}

export function createLocalPathProvisioner(exec: NodeExec): Provisioner {
  const run = async (node: string, argv: string[], what: string): Promise<void> => {
    const r = await exec(node, argv);
    if (r.exitCode !== 0)
      throw new Error(`${what} on node ${node} failed (exit code ${r.exitCode}): ${r.stderr.trim()}`);
  };
  return {
    name: LOCAL_PATH_PROVISIONER,
    async provision(req: ProvisionRequest): Promise<ProvisionedVolume> {
      const node = req.selectedNode;
      if (!node)
        throw new Error(
          `${LOCAL_PATH_PROVISIONER} provisions node-local volumes only for a selected node: use volumeBindingMode WaitForFirstConsumer (claim ${req.claim.metadata.namespace ?? ''}/${req.claim.metadata.name ?? ''} has no volume.kubernetes.io/selected-node)`,
        );
      if (req.volumeMode === 'Block')
        throw new Error(`${LOCAL_PATH_PROVISIONER} does not provision volumeMode Block`);
      if (!safeName(req.pvName))
        throw new Error(`invalid PersistentVolume name ${JSON.stringify(req.pvName)}`);
      const path = `${LOCAL_PATH_ROOT}/${req.pvName}`;
      await run(
        node,
        ['sh', '-c', 'mkdir -p -- "$1" && chmod 0777 -- "$1"', 'mkdir', path],
        `creating ${path}`,
      );
      return {
        source: { hostPath: { path, type: 'DirectoryOrCreate' } },
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: HOSTNAME_LABEL, operator: 'In', values: [node] }] },
            ],
          },
        },
      };
    },
    async delete(pv: KObject): Promise<void> {
      const name = pv.metadata.name ?? '';
      const path = (
        (pv['spec'] as { hostPath?: { path?: string } } | undefined)?.hostPath?.path ?? ''
      ).replace(/\/+$/, '');
      if (!safeName(name) || path !== `${LOCAL_PATH_ROOT}/${name}`)
        throw new Error(
          `PersistentVolume ${name} is not a ${LOCAL_PATH_PROVISIONER} volume (path ${JSON.stringify(path)})`,
        );
      const node = localPathNode(pv);
      if (!node)
        throw new Error(
          `PersistentVolume ${name} has no kubernetes.io/hostname node affinity: cannot find its node`,
        );
      const r = await exec(node, ['rm', '-rf', '--one-file-system', '--', path]);
      if (r.exitCode !== 0)
        throw new Error(
          `deleting ${path} on node ${node} failed (exit code ${r.exitCode}): ${r.stderr.trim()}`,
        );
    },
  };
}

/** The default StorageClass "standard" backed by the local-path provisioner. */
export function standardStorageClass(): KObject {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'standard', annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' } },
    provisioner: LOCAL_PATH_PROVISIONER,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
  };
}
