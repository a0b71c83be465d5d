// Protobuf field facts for k8s.io/api autoscaling/v1 (v0.36.3).
// Field numbers and types were looked up in the published generated.proto; JSON names and the
// "?" / "!" flags come from the Go struct tags of the same release. Format: see ../facts.ts.
import type { PackageFacts } from '../facts.ts';

export const autoscalingV1: PackageFacts = {
  pkg: 'autoscaling.v1',
  group: 'autoscaling',
  version: 'v1',
  messages: {
    ContainerResourceMetricSource: {
      1: 'name string',
      2: 'targetAverageUtilization int32',
      3: 'targetAverageValue resource.Quantity',
      5: 'container string',
    },
    ContainerResourceMetricStatus: {
      1: 'name string',
      2: 'currentAverageUtilization int32',
      3: 'currentAverageValue resource.Quantity',
      4: 'container string',
    },
    CrossVersionObjectReference: {
      1: 'kind string',
      2: 'name string',
      3: 'apiVersion string ?',
    },
    ExternalMetricSource: {
      1: 'metricName string',
      2: 'metricSelector meta.v1.LabelSelector',
      3: 'targetValue resource.Quantity',
      4: 'targetAverageValue resource.Quantity',
    },
    ExternalMetricStatus: {
      1: 'metricName string',
      2: 'metricSelector meta.v1.LabelSelector',
      3: 'currentValue resource.Quantity',
      4: 'currentAverageValue resource.Quantity',
    },
    HorizontalPodAutoscaler: {
      1: 'metadata meta.v1.ObjectMeta',
      2: 'spec autoscaling.v1.HorizontalPodAutoscalerSpec',
      3: 'status autoscaling.v1.HorizontalPodAutoscalerStatus',
    },
    HorizontalPodAutoscalerCondition: {
      1: 'type string',
      2: 'status string',
      3: 'lastTransitionTime meta.v1.Time',
      4: 'reason string ?',
      5: 'message string ?',
    },
    HorizontalPodAutoscalerList: {
      1: 'metadata meta.v1.ListMeta',
      2: 'items []autoscaling.v1.HorizontalPodAutoscaler !',
    },
    HorizontalPodAutoscalerSpec: {
      1: 'scaleTargetRef autoscaling.v1.CrossVersionObjectReference',
      2: 'minReplicas int32',
      3: 'maxReplicas int32',
      4: 'targetCPUUtilizationPercentage int32',
    },
    HorizontalPodAutoscalerStatus: {
      1: 'observedGeneration int64',
      2: 'lastScaleTime meta.v1.Time',
      3: 'currentReplicas int32',
      4: 'desiredReplicas int32',
      5: 'currentCPUUtilizationPercentage int32',
    },
    MetricSpec: {
      1: 'type string',
      2: 'object autoscaling.v1.ObjectMetricSource',
      3: 'pods autoscaling.v1.PodsMetricSource',
      4: 'resource autoscaling.v1.ResourceMetricSource',
      7: 'containerResource autoscaling.v1.ContainerResourceMetricSource',
      5: 'external autoscaling.v1.ExternalMetricSource',
    },
    MetricStatus: {
      1: 'type string',
      2: 'object autoscaling.v1.ObjectMetricStatus',
      3: 'pods autoscaling.v1.PodsMetricStatus',
      4: 'resource autoscaling.v1.ResourceMetricStatus',
      7: 'containerResource autoscaling.v1.ContainerResourceMetricStatus',
      5: 'external autoscaling.v1.ExternalMetricStatus',
    },
    ObjectMetricSource: {
      1: 'target autoscaling.v1.CrossVersionObjectReference',
      2: 'metricName string',
      3: 'targetValue resource.Quantity',
      4: 'selector meta.v1.LabelSelector',
      5: 'averageValue resource.Quantity',
    },
    ObjectMetricStatus: {
      1: 'target autoscaling.v1.CrossVersionObjectReference',
      2: 'metricName string',
      3: 'currentValue resource.Quantity',
      4: 'selector meta.v1.LabelSelector',
      5: 'averageValue resource.Quantity',
    },
    PodsMetricSource: {
      1: 'metricName string',
      2: 'targetAverageValue resource.Quantity',
      3: 'selector meta.v1.LabelSelector',
    },
    PodsMetricStatus: {
      1: 'metricName string',
      2: 'currentAverageValue resource.Quantity',
      3: 'selector meta.v1.LabelSelector',
    },
    ResourceMetricSource: {
      1: 'name string',
      2: 'targetAverageUtilization int32',
      3: 'targetAverageValue resource.Quantity',
    },
    ResourceMetricStatus: {
      1: 'name string',
      2: 'currentAverageUtilization int32',
      3: 'currentAverageValue resource.Quantity',
    },
    Scale: {
      1: 'metadata meta.v1.ObjectMeta',
      2: 'spec autoscaling.v1.ScaleSpec',
      3: 'status autoscaling.v1.ScaleStatus',
    },
    ScaleSpec: {
      1: 'replicas int32 ?',
    },
    ScaleStatus: {
      1: 'replicas int32',
      2: 'selector string ?',
    },
  },
};
