/** The pods a workload selects (spec.selector matchLabels + matchExpressions, same namespace), by name. */
import type { LabelSelector } from 'kubernetes-types/meta/v1';
import type { KubeObject } from '../../electron/contract.ts';

export function selects(sel: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!sel || (!sel.matchLabels && !sel.matchExpressions)) return false;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const v = labels[e.key];
    const vals = e.values ?? [];
    if (e.operator === 'In' && !(has && vals.includes(v ?? ''))) return false;
    if (e.operator === 'NotIn' && has && vals.includes(v ?? '')) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

export function podsOfWorkload(workload: KubeObject, pods: KubeObject[]): string[] {
  const sel = (workload['spec'] as { selector?: LabelSelector } | undefined)?.selector;
  return pods
    .filter(
      (p) => p.metadata.namespace === workload.metadata.namespace && selects(sel, p.metadata.labels ?? {}),
    )
    .map((p) => p.metadata.name ?? '')
    .sort();
}
