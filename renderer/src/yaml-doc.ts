/**
 * YAML text helpers of the manifest editor (pure, unit-tested): an object as editable YAML, the
 * apiVersion/kind pairs of a multi-document manifest (which schemas to ask for), and the text of the
 * two sides of a server-side dry-run diff.
 */
import { parseAllDocuments, stringify } from 'yaml';
import type { ApplyDocumentResult, GroupVersionKind, KubeObject } from '../../electron/contract.ts';

/**
 * The object as an apply configuration to edit: managedFields (the server's bookkeeping), status (not
 * the user's intent) and resourceVersion (would turn every apply into an optimistic-concurrency check
 * that fails as soon as a controller writes status) are left out.
 */
export function editableYaml(o: KubeObject): string {
  const {
    managedFields: _mf,
    resourceVersion: _rv,
    ...metadata
  } = o.metadata as KubeObject['metadata'] & {
    managedFields?: unknown;
  };
  const { status: _status, metadata: _m, apiVersion, kind, ...rest } = o;
  return stringify({ apiVersion, kind, metadata, ...rest });
}

/** The object as shown in a diff: everything but managedFields. */
export function diffYaml(o: KubeObject | undefined): string {
  if (!o) return '';
  const { managedFields: _mf, ...metadata } = o.metadata as KubeObject['metadata'] & {
    managedFields?: unknown;
  };
  return stringify({ ...o, metadata });
}

/** The two sides of a dry-run diff of every document: current objects vs what the server would store. */
export function diffTexts(docs: readonly ApplyDocumentResult[]): { current: string; proposed: string } {
  const ok = docs.filter((d) => d.action !== 'failed');
  return {
    current: ok.map((d) => diffYaml(d.current)).join('---\n'),
    proposed: ok.map((d) => diffYaml(d.object)).join('---\n'),
  };
}

/** The distinct apiVersion/kind pairs of the documents that parse (others are skipped). */
export function kindsOf(text: string): GroupVersionKind[] {
  const out = new Map<string, GroupVersionKind>();
  for (const doc of parseAllDocuments(text)) {
    if (!('contents' in doc) || doc.errors.length) continue;
    const apiVersion: unknown = doc.get('apiVersion');
    const kind: unknown = doc.get('kind');
    if (typeof apiVersion === 'string' && apiVersion && typeof kind === 'string' && kind)
      out.set(`${apiVersion}\n${kind}`, { apiVersion, kind });
  }
  return [...out.values()].sort((a, b) =>
    a.apiVersion === b.apiVersion ? a.kind.localeCompare(b.kind) : a.apiVersion.localeCompare(b.apiVersion),
  );
}
