/**
 * DefaultTolerationSeconds admission (plugin/pkg/admission/defaulttolerationseconds): on pod create, add
 * tolerations for the node.kubernetes.io/not-ready and node.kubernetes.io/unreachable NoExecute taints
 * (operator Exists, tolerationSeconds 300 — the apiserver's --default-not-ready-toleration-seconds and
 * --default-unreachable-toleration-seconds) unless the pod already tolerates them: a toleration with that
 * key or an empty key, and effect NoExecute or empty, counts.
 */
import type { AdmissionPlugin } from '../generic-registry.ts';

export const TAINT_NODE_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_NODE_UNREACHABLE = 'node.kubernetes.io/unreachable';

interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

export interface DefaultTolerationSecondsOptions {
  notReadySeconds?: number;
  unreachableSeconds?: number;
}

/** Adds the default tolerations to a pod object in place (exported for tests). */
export function addDefaultTolerations(pod: Record<string, unknown>, notReady = 300, unreachable = 300): void {
  const spec = (pod['spec'] ??= {}) as { tolerations?: Toleration[] };
  const tolerations = spec.tolerations ?? [];
  const tolerates = (key: string): boolean =>
    tolerations.some((t) => (!t.key || t.key === key) && (!t.effect || t.effect === 'NoExecute'));
  const add: Toleration[] = [];
  if (!tolerates(TAINT_NODE_NOT_READY))
    add.push({
      key: TAINT_NODE_NOT_READY,
      operator: 'Exists',
      effect: 'NoExecute',
      tolerationSeconds: notReady,
    });
  if (!tolerates(TAINT_NODE_UNREACHABLE))
    add.push({
      key: TAINT_NODE_UNREACHABLE,
      operator: 'Exists',
      effect: 'NoExecute',
      tolerationSeconds: unreachable,
    });
  if (add.length) spec.tolerations = [...tolerations, ...add];
}

export function defaultTolerationSeconds(opts: DefaultTolerationSecondsOptions = {}): AdmissionPlugin {
  const notReady = opts.notReadySeconds ?? 300;
  const unreachable = opts.unreachableSeconds ?? 300;
  return {
    name: 'DefaultTolerationSeconds',
    admit(op, s, obj) {
      if (op !== 'CREATE' || s.strategy.info.group !== '' || s.strategy.info.resource !== 'pods') return;
      if (obj.kind && obj.kind !== 'Pod') return;
      addDefaultTolerations(obj, notReady, unreachable);
    },
  };
}
