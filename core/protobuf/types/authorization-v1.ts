// Protobuf field facts for k8s.io/api authorization/v1 (v0.36.3).
// Field numbers and types were looked up in the published generated.proto; JSON names and the
// "?" / "!" flags come from the Go struct tags of the same release. Format: see ../facts.ts.
import type { PackageFacts } from '../facts.ts';

export const authorizationV1: PackageFacts = {
  pkg: 'authorization.v1',
  group: 'authorization.k8s.io',
  version: 'v1',
  messages: {
    ExtraValue: {
      1: 'items []string unwrap',
    },
    FieldSelectorAttributes: {
      1: 'rawSelector string ?',
      2: 'requirements []meta.v1.FieldSelectorRequirement',
    },
    LabelSelectorAttributes: {
      1: 'rawSelector string ?',
      2: 'requirements []meta.v1.LabelSelectorRequirement',
    },
    LocalSubjectAccessReview: {
      1: 'metadata meta.v1.ObjectMeta',
      2: 'spec authorization.v1.SubjectAccessReviewSpec',
      3: 'status authorization.v1.SubjectAccessReviewStatus',
    },
    NonResourceAttributes: {
      1: 'path string ?',
      2: 'verb string ?',
    },
    NonResourceRule: {
      1: 'verbs []string !',
      2: 'nonResourceURLs []string',
    },
    ResourceAttributes: {
      1: 'namespace string ?',
      2: 'verb string ?',
      3: 'group string ?',
      4: 'version string ?',
      5: 'resource string ?',
      6: 'subresource string ?',
      7: 'name string ?',
      8: 'fieldSelector authorization.v1.FieldSelectorAttributes',
      9: 'labelSelector authorization.v1.LabelSelectorAttributes',
    },
    ResourceRule: {
      1: 'verbs []string !',
      2: 'apiGroups []string',
      3: 'resources []string',
      4: 'resourceNames []string',
    },
    SelfSubjectAccessReview: {
      1: 'metadata meta.v1.ObjectMeta',
      2: 'spec authorization.v1.SelfSubjectAccessReviewSpec',
      3: 'status authorization.v1.SubjectAccessReviewStatus',
    },
    SelfSubjectAccessReviewSpec: {
      1: 'resourceAttributes authorization.v1.ResourceAttributes',
      2: 'nonResourceAttributes authorization.v1.NonResourceAttributes',
    },
    SelfSubjectRulesReview: {
      1: 'metadata meta.v1.ObjectMeta',
      2: 'spec authorization.v1.SelfSubjectRulesReviewSpec',
      3: 'status authorization.v1.SubjectRulesReviewStatus',
    },
    SelfSubjectRulesReviewSpec: {
      1: 'namespace string ?',
    },
    SubjectAccessReview: {
      1: 'metadata meta.v1.ObjectMeta',
      2: 'spec authorization.v1.SubjectAccessReviewSpec',
      3: 'status authorization.v1.SubjectAccessReviewStatus',
    },
    SubjectAccessReviewSpec: {
      1: 'resourceAttributes authorization.v1.ResourceAttributes',
      2: 'nonResourceAttributes authorization.v1.NonResourceAttributes',
      3: 'user string ?',
      4: 'groups []string',
      5: 'extra map<string,authorization.v1.ExtraValue>',
      6: 'uid string ?',
    },
    SubjectAccessReviewStatus: {
      1: 'allowed bool',
      4: 'denied bool ?',
      2: 'reason string ?',
      3: 'evaluationError string ?',
    },
    SubjectRulesReviewStatus: {
      1: 'resourceRules []authorization.v1.ResourceRule !',
      2: 'nonResourceRules []authorization.v1.NonResourceRule !',
      3: 'incomplete bool',
      4: 'evaluationError string ?',
    },
  },
};
