/**
 * Multi-document YAML apply for the GUI's manifest editor: every document is first sent as a
 * server-side apply with dryRun=All; only when every document passes are they applied for real, in
 * order (field manager "berth-gui"). Errors point at a 1-based line of the submitted text: a YAML
 * syntax error at its position, an Invalid cause at the field it names, anything else at the
 * document's first line.
 */
import { LineCounter, parseAllDocuments, isNode, type Document } from 'yaml';
import type { ApplyDocumentResult, ApplyResult, ContractError, KubeObject } from './contract.ts';
import {
  KubeApiError,
  resourcePath,
  toContractError,
  type DiscoveredResource,
  type KubeClient,
} from './kube-client.ts';

export const FIELD_MANAGER = 'berth-gui';

interface ParsedDoc {
  index: number;
  line: number;
  doc: Document;
  object?: KubeObject;
  error?: ContractError;
}

/** "spec.template.spec.containers[0].image" → ['spec','template','spec','containers',0,'image']. */
export function fieldPath(field: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const part of field.split('.')) {
    const m = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) {
      out.push(part);
      continue;
    }
    if (m[1]) out.push(m[1]);
    for (const idx of (m[2] ?? '').matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}

/** The field an error names: an Invalid cause's field, or a decoding error's "struct field Kind.a.b". */
function fieldOf(err: ContractError): string | undefined {
  const cause = err.causes?.find((c) => c.field)?.field;
  if (cause) return cause;
  return /struct field \w+\.([\w.[\]]+) of type/.exec(err.message)?.[1];
}

function lineOfField(d: ParsedDoc, lc: LineCounter, field: string | undefined): number {
  if (!field) return d.line;
  const path = fieldPath(field);
  // Walk up the path until a node exists (a missing field points at its parent).
  for (let n = path.length; n > 0; n--) {
    const node: unknown = d.doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return lc.linePos(node.range[0]).line;
  }
  return d.line;
}

function parse(yamlText: string, lc: LineCounter): ParsedDoc[] {
  const docs = parseAllDocuments(yamlText, { lineCounter: lc });
  const list = Array.isArray(docs) ? docs : [];
  const out: ParsedDoc[] = [];
  list.forEach((doc, index) => {
    const start =
      doc.contents && isNode(doc.contents) && doc.contents.range ? doc.contents.range[0] : doc.range[0];
    const line = lc.linePos(start).line;
    const d: ParsedDoc = { index, line, doc };
    if (doc.errors.length) {
      const e = doc.errors[0]!;
      d.error = { message: e.message, line: lc.linePos(e.pos[0]).line };
      out.push(d);
      return;
    }
    const js: unknown = doc.toJS();
    if (js === null || js === undefined) return; // empty document (e.g. a trailing ---)
    if (typeof js !== 'object' || Array.isArray(js)) {
      d.error = { message: 'a manifest must be a YAML mapping (an object)', line };
    } else {
      const o = js as KubeObject;
      if (typeof o.apiVersion !== 'string' || !o.apiVersion)
        d.error = { message: 'apiVersion not set', line };
      else if (typeof o.kind !== 'string' || !o.kind) d.error = { message: 'kind not set', line };
      else if (
        typeof o.metadata !== 'object' ||
        o.metadata === null ||
        typeof o.metadata.name !== 'string' ||
        !o.metadata.name
      )
        d.error = { message: 'metadata.name is required', line: lineOfField(d, lc, 'metadata') };
      else d.object = o;
    }
    out.push(d);
  });
  return out;
}

function comparable(o: KubeObject): string {
  const {
    managedFields: _m,
    resourceVersion: _rv,
    ...meta
  } = o.metadata as KubeObject['metadata'] & {
    managedFields?: unknown;
  };
  return JSON.stringify({ ...o, metadata: meta });
}

export async function applyYaml(
  client: KubeClient,
  yamlText: string,
  opts: { defaultNamespace?: string; dryRun?: boolean; force?: boolean } = {},
): Promise<ApplyResult> {
  const lc = new LineCounter();
  const docs = parse(yamlText, lc);
  const results: ApplyDocumentResult[] = [];
  const targets: { d: ParsedDoc; res: DiscoveredResource; namespace?: string; body: KubeObject }[] = [];

  for (const d of docs) {
    const o = d.object;
    const base: ApplyDocumentResult = {
      index: d.index,
      line: d.line,
      apiVersion: o?.apiVersion ?? '',
      kind: o?.kind ?? '',
      name: o?.metadata.name ?? '',
      action: 'failed',
    };
    if (!o) {
      results.push({ ...base, error: d.error ?? { message: 'invalid document', line: d.line } });
      continue;
    }
    try {
      const res = await client.resolveKind(o.apiVersion!, o.kind!);
      const namespace = res.namespaced
        ? o.metadata.namespace || opts.defaultNamespace || 'default'
        : undefined;
      const body: KubeObject = { ...o, metadata: { ...o.metadata, ...(namespace ? { namespace } : {}) } };
      if (namespace) base.namespace = namespace;
      targets.push({ d, res, ...(namespace ? { namespace } : {}), body });
      results.push(base);
    } catch (e) {
      results.push({ ...base, error: { ...toContractError(e), line: d.line } });
    }
  }

  const send = async (t: (typeof targets)[number], dryRun: boolean): Promise<KubeObject> =>
    client.request<KubeObject>('PATCH', resourcePath(t.res.ref, t.namespace, t.body.metadata.name), {
      query: {
        fieldManager: FIELD_MANAGER,
        ...(opts.force ? { force: true } : {}),
        ...(dryRun ? { dryRun: 'All' } : {}),
      },
      body: JSON.stringify(t.body),
      contentType: 'application/apply-patch+yaml',
    });

  const resultFor = (t: (typeof targets)[number]): ApplyDocumentResult =>
    results.find((r) => r.index === t.d.index)!;

  // Phase 1: server-side dry run of every document.
  for (const t of targets) {
    const r = resultFor(t);
    try {
      let existing: KubeObject | undefined;
      try {
        existing = await client.request<KubeObject>(
          'GET',
          resourcePath(t.res.ref, t.namespace, t.body.metadata.name),
        );
      } catch (e) {
        if (!(e instanceof KubeApiError && e.code === 404)) throw e;
      }
      const out = await send(t, true);
      r.object = out;
      if (existing) r.current = existing;
      r.action = !existing
        ? 'created'
        : comparable(existing) === comparable(out)
          ? 'unchanged'
          : 'configured';
    } catch (e) {
      const err = toContractError(e);
      err.line = lineOfField(t.d, lc, fieldOf(err));
      r.action = 'failed';
      r.error = err;
    }
  }

  const allPassed = results.every((r) => r.action !== 'failed');
  if (opts.dryRun || !allPassed) return { dryRun: true, documents: results };

  // Phase 2: apply for real, in document order.
  for (const t of targets) {
    const r = resultFor(t);
    if (r.action === 'unchanged') continue;
    try {
      r.object = await send(t, false);
    } catch (e) {
      const err = toContractError(e);
      err.line = lineOfField(t.d, lc, fieldOf(err));
      r.action = 'failed';
      r.error = err;
    }
  }
  return { dryRun: false, documents: results };
}
