// Protobuf field facts for k8s.io/api authentication/v1 (v0.36.3).
// Field numbers and types were looked up in the published generated.proto; JSON names and the
// "?" / "!" flags come from the Go struct tags of the same release. Format: see ../facts.ts.
import type { PackageFacts } from '../facts.ts';

export const authenticationV1: PackageFacts = {
  pkg: 'authentication.v1',
  group: 'authentication.k8s.io',
  version: 'v1',
  messages: {
    BoundObjectReference: {
      1: 'kind string ?',
      2: 'apiVersion string ?',
      3: 'name string ?',
      4: 'uid string ?',
    },
    ExtraValue: {
      1: 'items []string unwrap',
    },
    SelfSubjectReview: {
      1: 'metadata meta.v1.ObjectMeta',
      2: 'status authentication.v1.SelfSubjectReviewStatus',
    },
    SelfSubjectReviewStatus: {
      1: 'userInfo authentication.v1.UserInfo',
    },
    TokenRequest: {
      1: 'metadata meta.v1.ObjectMeta',
      2: 'spec authentication.v1.TokenRequestSpec',
      3: 'status authentication.v1.TokenRequestStatus',
    },
    TokenRequestSpec: {
      1: 'audiences []string !',
      4: 'expirationSeconds int64 !',
      3: 'boundObjectRef authentication.v1.BoundObjectReference !',
    },
    TokenRequestStatus: {
      1: 'token string',
      2: 'expirationTimestamp meta.v1.Time',
    },
    TokenReview: {
      1: 'metadata meta.v1.ObjectMeta',
      2: 'spec authentication.v1.TokenReviewSpec',
      3: 'status authentication.v1.TokenReviewStatus',
    },
    TokenReviewSpec: {
      1: 'token string ?',
      2: 'audiences []string',
    },
    TokenReviewStatus: {
      1: 'authenticated bool ?',
      2: 'user authentication.v1.UserInfo',
      4: 'audiences []string',
      3: 'error string ?',
    },
    UserInfo: {
      1: 'username string ?',
      2: 'uid string ?',
      3: 'groups []string',
      4: 'extra map<string,authentication.v1.ExtraValue>',
    },
  },
};
