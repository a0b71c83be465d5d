/**
 * HorizontalPodAutoscaler spec.behavior: its shape and upstream's defaults for a behavior that is given
 * (SetDefaults_HorizontalPodAutoscalerBehavior: both directions filled in; absent behavior stays absent).
 */

export interface ScalingPolicy {
  type?: 'Pods' | 'Percent' | string;
  value?: number;
  periodSeconds?: number;
}

export interface ScalingRules {
  stabilizationWindowSeconds?: number;
  selectPolicy?: 'Max' | 'Min' | 'Disabled' | string;
  policies?: ScalingPolicy[];
}

export interface Behavior {
  scaleUp?: ScalingRules;
  scaleDown?: ScalingRules;
}

/** Upstream's defaults for a behavior that is given (SetDefaults_HorizontalPodAutoscalerBehavior). */
export function defaultBehavior(b: Behavior): Required<Behavior> {
  const up = b.scaleUp ?? {};
  const down = b.scaleDown ?? {};
  return {
    scaleUp: {
      stabilizationWindowSeconds: up.stabilizationWindowSeconds ?? 0,
      selectPolicy: up.selectPolicy ?? 'Max',
      policies: up.policies ?? [
        { type: 'Pods', value: 4, periodSeconds: 15 },
        { type: 'Percent', value: 100, periodSeconds: 15 },
      ],
    },
    scaleDown: {
      stabilizationWindowSeconds: down.stabilizationWindowSeconds ?? 300,
      selectPolicy: down.selectPolicy ?? 'Max',
      policies: down.policies ?? [{ type: 'Percent', value: 100, periodSeconds: 15 }],
    },
  };
}
