// Protobuf field facts for k8s.io/api certificates/v1 (v0.36.3).
// Field numbers and types were looked up in the published generated.proto; JSON names and the
// "?" / "!" flags come from the Go struct tags of the same release. Format: see ../facts.ts.
import type { PackageFacts } from '../facts.ts';

export const certificatesV1: PackageFacts = {
  pkg: 'certificates.v1',
  group: 'certificates.k8s.io',
  version: 'v1',
  messages: {
    CertificateSigningRequest: {
      1: 'metadata meta.v1.ObjectMeta',
      2: 'spec certificates.v1.CertificateSigningRequestSpec',
      3: 'status certificates.v1.CertificateSigningRequestStatus',
    },
    CertificateSigningRequestCondition: {
      1: 'type string',
      6: 'status string',
      2: 'reason string ?',
      3: 'message string ?',
      4: 'lastUpdateTime meta.v1.Time',
      5: 'lastTransitionTime meta.v1.Time',
    },
    CertificateSigningRequestList: {
      1: 'metadata meta.v1.ListMeta',
      2: 'items []certificates.v1.CertificateSigningRequest !',
    },
    CertificateSigningRequestSpec: {
      1: 'request bytes !',
      7: 'signerName string',
      8: 'expirationSeconds int32',
      5: 'usages []string',
      2: 'username string ?',
      3: 'uid string ?',
      4: 'groups []string',
      6: 'extra map<string,certificates.v1.ExtraValue>',
    },
    CertificateSigningRequestStatus: {
      1: 'conditions []certificates.v1.CertificateSigningRequestCondition',
      2: 'certificate bytes ?',
    },
    ExtraValue: {
      1: 'items []string unwrap',
    },
  },
};
