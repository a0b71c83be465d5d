/**
 * "Merge into my kubeconfig" (only when the user asks): adds the cluster's cluster, user and context
 * to the user's kubeconfig under the name `berth-<cluster>` (replacing entries of that name), after
 * copying the existing file to `<file>.berth-backup-<timestamp>`. The current context is set only
 * when the file had none. The file is written 0600 through a temporary file and a rename.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parse, stringify } from 'yaml';

interface Named {
  name: string;
  [k: string]: unknown;
}
interface KubeconfigDoc {
  apiVersion?: string;
  kind?: string;
  clusters?: Named[];
  users?: Named[];
  contexts?: Named[];
  'current-context'?: string;
  [k: string]: unknown;
}

function asDoc(text: string, what: string): KubeconfigDoc {
  const v: unknown = text.trim() ? parse(text) : {};
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v))
    throw new Error(`${what} is not a kubeconfig (not a mapping)`);
  return v as KubeconfigDoc;
}

function only(list: Named[] | undefined, name: string | undefined, what: string): Named {
  const e = list?.find((x) => x.name === name) ?? list?.[0];
  if (!e) throw new Error(`the cluster's kubeconfig has no ${what}`);
  return e;
}

/** The merged kubeconfig text (pure; exported for tests). */
export function mergeKubeconfig(existing: string, clusterYaml: string, contextName: string): string {
  const target = asDoc(existing, 'the existing kubeconfig');
  const src = asDoc(clusterYaml, "the cluster's kubeconfig");
  const ctx = only(src.contexts, src['current-context'], 'context');
  const c = ctx['context'] as { cluster?: string; user?: string; namespace?: string } | undefined;
  const cluster = only(src.clusters, c?.cluster, 'cluster');
  const user = only(src.users, c?.user, 'user');
  const put = (list: Named[] | undefined, entry: Named): Named[] => [
    ...(list ?? []).filter((x) => x.name !== entry.name),
    entry,
  ];
  const out: KubeconfigDoc = {
    apiVersion: 'v1',
    kind: 'Config',
    ...target,
    clusters: put(target.clusters, { ...cluster, name: contextName }),
    users: put(target.users, { ...user, name: contextName }),
    contexts: put(target.contexts, {
      name: contextName,
      context: {
        cluster: contextName,
        user: contextName,
        ...(c?.namespace ? { namespace: c.namespace } : {}),
      },
    }),
  };
  if (!target['current-context']) out['current-context'] = contextName;
  return stringify(out);
}

export function mergeIntoFile(
  file: string,
  clusterYaml: string,
  clusterName: string,
  now = new Date(),
): { file: string; context: string; backup?: string } {
  const context = `berth-${clusterName.replace(/[^A-Za-z0-9._-]+/g, '-')}`;
  const existing = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const merged = mergeKubeconfig(existing, clusterYaml, context);
  let backup: string | undefined;
  if (existsSync(file)) {
    backup = `${file}.berth-backup-${now.toISOString().replace(/[:.]/g, '-')}`;
    copyFileSync(file, backup);
  } else {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  }
  const tmp = `${file}.berth-tmp-${process.pid}`;
  writeFileSync(tmp, merged, { mode: 0o600 });
  renameSync(tmp, file);
  return { file, context, ...(backup ? { backup } : {}) };
}
