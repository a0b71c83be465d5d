/**
 * Kubeconfig files: render one for a cluster + user (certificates embedded as base64 *-data fields),
 * write it with mode 0600, and merge one into another (e.g. into ~/.kube/config on request).
 */
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { YAMLSeq, isMap, isSeq, parse, parseDocument, stringify } from 'yaml';

export interface KubeconfigParams {
  /** Names the cluster entry and the context. */
  clusterName: string;
  /** API server URL, e.g. https://127.0.0.1:6443 */
  server: string;
  caPem: string;
  /**
   * Names the user entry. Make it unique per cluster (e.g. `<cluster>-admin`): merging into a shared
   * kubeconfig replaces entries by name.
   */
  userName: string;
  certPem: string;
  keyPem: string;
  namespace?: string;
}

/** The parts of a kubeconfig this module reads and writes. */
export interface Kubeconfig {
  apiVersion: 'v1';
  kind: 'Config';
  clusters: { name: string; cluster: { server: string; 'certificate-authority-data': string } }[];
  users: { name: string; user: { 'client-certificate-data': string; 'client-key-data': string } }[];
  contexts: { name: string; context: { cluster: string; user: string; namespace?: string } }[];
  'current-context': string;
  preferences: Record<string, never>;
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

const YAML_OUT = { lineWidth: 0 } as const;

export function buildKubeconfig(p: KubeconfigParams): Kubeconfig {
  if (!p.clusterName || !p.userName) throw new Error('a kubeconfig needs a cluster name and a user name');
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: p.clusterName, cluster: { server: p.server, 'certificate-authority-data': b64(p.caPem) } },
    ],
    users: [
      {
        name: p.userName,
        user: { 'client-certificate-data': b64(p.certPem), 'client-key-data': b64(p.keyPem) },
      },
    ],
    contexts: [
      {
        name: p.clusterName,
        context: {
          cluster: p.clusterName,
          user: p.userName,
          ...(p.namespace ? { namespace: p.namespace } : {}),
        },
      },
    ],
    'current-context': p.clusterName,
    preferences: {},
  };
}

export function renderKubeconfig(p: KubeconfigParams): string {
  return stringify(buildKubeconfig(p), YAML_OUT);
}

/** Writes a kubeconfig (rendered from params, or YAML text) atomically with mode 0600. */
export function writeKubeconfig(path: string, config: KubeconfigParams | string): void {
  const text = typeof config === 'string' ? config : renderKubeconfig(config);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  writeFileSync(tmp, text, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

export interface MergeOptions {
  /** Make the new config's current-context the merged one's (default true, as kind and minikube do). */
  setCurrentContext?: boolean;
}

const SECTIONS = ['clusters', 'users', 'contexts'] as const;

/**
 * Adds the clusters, users and contexts of `newYaml` to `existingYaml`, replacing entries with the
 * same name in place. Everything else in the existing file (other entries, preferences, extensions,
 * comments) is kept. Pure: returns the merged YAML text.
 */
export function mergeKubeconfig(existingYaml: string, newYaml: string, opts: MergeOptions = {}): string {
  const incoming: unknown = parse(newYaml);
  if (!incoming || typeof incoming !== 'object') throw new Error('the kubeconfig to merge is empty');
  const add = incoming as Record<string, unknown>;

  const doc = parseDocument(existingYaml.trim() ? existingYaml : 'apiVersion: v1\nkind: Config\n');
  if (doc.errors.length)
    throw new Error(`existing kubeconfig is not valid YAML: ${doc.errors[0]?.message ?? ''}`);
  if (doc.contents === null) doc.contents = parseDocument('apiVersion: v1\nkind: Config\n').contents;
  if (!isMap(doc.contents)) throw new Error('existing kubeconfig is not a YAML mapping');
  if (!doc.has('apiVersion')) doc.set('apiVersion', 'v1');
  if (!doc.has('kind')) doc.set('kind', 'Config');

  for (const section of SECTIONS) {
    const entries = add[section];
    if (entries === undefined || entries === null) continue;
    if (!Array.isArray(entries)) throw new Error(`${section} in the kubeconfig to merge is not a list`);
    let seq = doc.get(section);
    if (!isSeq(seq)) {
      // kubectl writes `clusters: null` for an empty list.
      if (seq !== undefined && seq !== null)
        throw new Error(`${section} in the existing kubeconfig is not a list`);
      seq = new YAMLSeq();
      doc.set(section, seq);
    }
    const items = (seq as YAMLSeq).items;
    for (const entry of entries as unknown[]) {
      const name = entry && typeof entry === 'object' ? (entry as { name?: unknown }).name : undefined;
      if (typeof name !== 'string' || !name) throw new Error(`an entry in ${section} has no name`);
      const node = doc.createNode(entry);
      const i = items.findIndex((it) => isMap(it) && it.get('name') === name);
      if (i >= 0) items[i] = node;
      else items.push(node);
    }
  }

  const current = add['current-context'];
  if (opts.setCurrentContext !== false && typeof current === 'string' && current)
    doc.set('current-context', current);
  return doc.toString(YAML_OUT);
}
