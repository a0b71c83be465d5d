// Protobuf field facts for k8s.io/api coordination/v1 (v0.36.3).
// Field numbers and types were looked up in the published generated.proto; JSON names and the
// "?" / "!" flags come from the Go struct tags of the same release. Format: see ../facts.ts.
import type { PackageFacts } from '../facts.ts';

export const coordinationV1: PackageFacts = {
  pkg: 'coordination.v1',
  group: 'coordination.k8s.io',
  version: 'v1',
  messages: {
    Lease: {
      1: 'metadata meta.v1.ObjectMeta',
      2: 'spec coordination.v1.LeaseSpec',
    },
    LeaseList: {
      1: 'metadata meta.v1.ListMeta',
      2: 'items []coordination.v1.Lease !',
    },
    LeaseSpec: {
      1: 'holderIdentity string',
      2: 'leaseDurationSeconds int32',
      3: 'acquireTime meta.v1.MicroTime',
      4: 'renewTime meta.v1.MicroTime',
      5: 'leaseTransitions int32',
      6: 'strategy string',
      7: 'preferredHolder string',
    },
  },
};
