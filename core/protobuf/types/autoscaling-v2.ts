// Protobuf field facts for k8s.io/api autoscaling/v2 (v0.36.3).
// Field numbers and types were looked up in the published generated.proto; JSON names and the
// "?" / "!" flags come from the Go struct tags of the same release. Format: see ../facts.ts.
import type { PackageFacts } from '../facts.ts';

export const autoscalingV2: PackageFacts = {
  pkg: 'autoscaling.v2',
  group: 'autoscaling',
  version: 'v2',
  messages: {
    ContainerResourceMetricSource: {
      1: 'name string',
      2: 'target autoscaling.v2.MetricTarget',
      3: 'container string',
    },
    ContainerResourceMetricStatus: {
      1: 'name string',
      2: 'current autoscaling.v2.MetricValueStatus',
      3: 'container string',
    },
    CrossVersionObjectReference: {
      1: 'kind string',
      2: 'name string',
      3: 'apiVersion string ?',
    },
    ExternalMetricSource: {
      1: 'metric autoscaling.v2.MetricIdentifier',
      2: 'target autoscaling.v2.MetricTarget',
    },
    ExternalMetricStatus: {
      1: 'metric autoscaling.v2.MetricIdentifier',
      2: 'current autoscaling.v2.MetricValueStatus',
    },
    HorizontalPodAutoscaler: {
      1: 'metadata meta.v1.ObjectMeta',
      2: 'spec autoscaling.v2.HorizontalPodAutoscalerSpec',
      3: 'status autoscaling.v2.HorizontalPodAutoscalerStatus',
    },
    HorizontalPodAutoscalerBehavior: {
      1: 'scaleUp autoscaling.v2.HPAScalingRules',
      2: 'scaleDown autoscaling.v2.HPAScalingRules',
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
      2: 'items []autoscaling.v2.HorizontalPodAutoscaler !',
    },
    HorizontalPodAutoscalerSpec: {
      1: 'scaleTargetRef autoscaling.v2.CrossVersionObjectReference',
      2: 'minReplicas int32',
      3: 'maxReplicas int32',
      4: 'metrics []autoscaling.v2.MetricSpec',
      5: 'behavior autoscaling.v2.HorizontalPodAutoscalerBehavior',
    },
    HorizontalPodAutoscalerStatus: {
      1: 'observedGeneration int64',
      2: 'lastScaleTime meta.v1.Time',
      3: 'currentReplicas int32 ?',
      4: 'desiredReplicas int32',
      5: 'currentMetrics []autoscaling.v2.MetricStatus !',
      6: 'conditions []autoscaling.v2.HorizontalPodAutoscalerCondition',
    },
    HPAScalingPolicy: {
      1: 'type string',
      2: 'value int32',
      3: 'periodSeconds int32',
    },
    HPAScalingRules: {
      3: 'stabilizationWindowSeconds int32',
      1: 'selectPolicy string',
      2: 'policies []autoscaling.v2.HPAScalingPolicy',
      4: 'tolerance resource.Quantity',
    },
    MetricIdentifier: {
      1: 'name string',
      2: 'selector meta.v1.LabelSelector',
    },
    MetricSpec: {
      1: 'type string',
      2: 'object autoscaling.v2.ObjectMetricSource',
      3: 'pods autoscaling.v2.PodsMetricSource',
      4: 'resource autoscaling.v2.ResourceMetricSource',
      7: 'containerResource autoscaling.v2.ContainerResourceMetricSource',
      5: 'external autoscaling.v2.ExternalMetricSource',
    },
    MetricStatus: {
      1: 'type string',
      2: 'object autoscaling.v2.ObjectMetricStatus',
      3: 'pods autoscaling.v2.PodsMetricStatus',
      4: 'resource autoscaling.v2.ResourceMetricStatus',
      7: 'containerResource autoscaling.v2.ContainerResourceMetricStatus',
      5: 'external autoscaling.v2.ExternalMetricStatus',
    },
    MetricTarget: {
      1: 'type string',
      2: 'value resource.Quantity',
      3: 'averageValue resource.Quantity',
      4: 'averageUtilization int32',
    },
    MetricValueStatus: {
      1: 'value resource.Quantity',
      2: 'averageValue resource.Quantity',
      3: 'averageUtilization int32',
    },
    ObjectMetricSource: {
      1: 'describedObject autoscaling.v2.CrossVersionObjectReference',
      2: 'target autoscaling.v2.MetricTarget',
      3: 'metric autoscaling.v2.MetricIdentifier',
    },
    ObjectMetricStatus: {
      1: 'metric autoscaling.v2.MetricIdentifier',
      2: 'current autoscaling.v2.MetricValueStatus',
      3: 'describedObject autoscaling.v2.CrossVersionObjectReference',
    },
    PodsMetricSource: {
      1: 'metric autoscaling.v2.MetricIdentifier',
      2: 'target autoscaling.v2.MetricTarget',
    },
    PodsMetricStatus: {
      1: 'metric autoscaling.v2.MetricIdentifier',
      2: 'current autoscaling.v2.MetricValueStatus',
    },
    ResourceMetricSource: {
      1: 'name string',
      2: 'target autoscaling.v2.MetricTarget',
    },
    ResourceMetricStatus: {
      1: 'name string',
      2: 'current autoscaling.v2.MetricValueStatus',
    },
  },
};
