/** meta.k8s.io/v1 Table responses for `kubectl get`, from each strategy's columns and row printer. */
import type { KObject } from '../api/object.ts';
import { defaultColumns, defaultRow } from '../registry/printers.ts';
import type { Served } from './resources.ts';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export function parseIncludeObject(v: string | null): IncludeObject {
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}

function rowObject(obj: KObject, include: IncludeObject): object | undefined {
  if (include === 'None') return undefined;
  if (include === 'Object') return obj;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

export function columnsOf(s: Served): object[] {
  const cols = s.strategy.columns ?? defaultColumns;
  return cols.map((c) => ({
    name: c.name,
    type: c.type,
    format: c.format ?? '',
    description: c.description ?? '',
    priority: c.priority ?? 0,
  }));
}

export function tableRows(s: Served, items: KObject[], include: IncludeObject, now: Date): object[] {
  return items.map((obj) => {
    const cells = s.strategy.row ? s.strategy.row(obj, now) : defaultRow(obj);
    const o = rowObject(obj, include);
    return o ? { cells, object: o } : { cells };
  });
}

export function toTable(
  s: Served,
  items: KObject[],
  meta: { resourceVersion?: string; continue?: string; remainingItemCount?: number },
  include: IncludeObject,
  now: Date,
  withColumns = true,
): object {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: {
      ...(meta.resourceVersion ? { resourceVersion: meta.resourceVersion } : {}),
      ...(meta.continue ? { continue: meta.continue } : {}),
      ...(meta.remainingItemCount !== undefined ? { remainingItemCount: meta.remainingItemCount } : {}),
    },
    columnDefinitions: withColumns ? columnsOf(s) : null,
    rows: tableRows(s, items, include, now),
  };
}
