// Protobuf field facts for k8s.io/api scheduling/v1 (v0.36.3).
// Field numbers and types were looked up in the published generated.proto; JSON names and the
// "?" / "!" flags come from the Go struct tags of the same release. Format: see ../facts.ts.
import type { PackageFacts } from '../facts.ts';

export const schedulingV1: PackageFacts = {
  pkg: 'scheduling.v1',
  group: 'scheduling.k8s.io',
  version: 'v1',
  messages: {
    PriorityClass: {
      1: 'metadata meta.v1.ObjectMeta',
      2: 'value int32',
      3: 'globalDefault bool ?',
      4: 'description string ?',
      5: 'preemptionPolicy string',
    },
    PriorityClassList: {
      1: 'metadata meta.v1.ListMeta',
      2: 'items []scheduling.v1.PriorityClass !',
    },
  },
};
