// Protobuf field facts for k8s.io/api authentication/v1beta1 (v0.36.3).
// Field numbers and types were looked up in the published generated.proto; JSON names and the
// "?" / "!" flags come from the Go struct tags of the same release. Format: see ../facts.ts.
import type { PackageFacts } from '../facts.ts';

export const authenticationV1beta1: PackageFacts = {
  pkg: 'authentication.v1beta1',
  group: 'authentication.k8s.io',
  version: 'v1beta1',
  messages: {
    ExtraValue: {
      1: 'items []string unwrap',
    },
    SelfSubjectReview: {
      1: 'metadata meta.v1.ObjectMeta',
      2: 'status authentication.v1beta1.SelfSubjectReviewStatus',
    },
    SelfSubjectReviewStatus: {
      1: 'userInfo authentication.v1.UserInfo',
    },
    TokenReview: {
      1: 'metadata meta.v1.ObjectMeta',
      2: 'spec authentication.v1beta1.TokenReviewSpec',
      3: 'status authentication.v1beta1.TokenReviewStatus',
    },
    TokenReviewSpec: {
      1: 'token string ?',
      2: 'audiences []string',
    },
    TokenReviewStatus: {
      1: 'authenticated bool ?',
      2: 'user authentication.v1beta1.UserInfo',
      4: 'audiences []string',
      3: 'error string ?',
    },
    UserInfo: {
      1: 'username string ?',
      2: 'uid string ?',
      3: 'groups []string',
      4: 'extra map<string,authentication.v1beta1.ExtraValue>',
    },
  },
};
