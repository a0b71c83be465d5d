// Protobuf field facts for k8s.io/api policy/v1 (v0.36.3).
// Field numbers and types were looked up in the published generated.proto; JSON names and the
// "?" / "!" flags come from the Go struct tags of the same release. Format: see ../facts.ts.
import type { PackageFacts } from '../facts.ts';

export const policyV1: PackageFacts = {
  pkg: 'policy.v1',
  group: 'policy',
  version: 'v1',
  messages: {
    Eviction: {
      1: 'metadata meta.v1.ObjectMeta',
      2: 'deleteOptions meta.v1.DeleteOptions',
    },
    PodDisruptionBudget: {
      1: 'metadata meta.v1.ObjectMeta',
      2: 'spec policy.v1.PodDisruptionBudgetSpec',
      3: 'status policy.v1.PodDisruptionBudgetStatus',
    },
    PodDisruptionBudgetList: {
      1: 'metadata meta.v1.ListMeta',
      2: 'items []policy.v1.PodDisruptionBudget !',
    },
    PodDisruptionBudgetSpec: {
      1: 'minAvailable intstr.IntOrString',
      2: 'selector meta.v1.LabelSelector',
      3: 'maxUnavailable intstr.IntOrString',
      4: 'unhealthyPodEvictionPolicy string',
    },
    PodDisruptionBudgetStatus: {
      1: 'observedGeneration int64 ?',
      2: 'disruptedPods map<string,meta.v1.Time>',
      3: 'disruptionsAllowed int32',
      4: 'currentHealthy int32',
      5: 'desiredHealthy int32',
      6: 'expectedPods int32',
      7: 'conditions []meta.v1.Condition',
    },
  },
};
