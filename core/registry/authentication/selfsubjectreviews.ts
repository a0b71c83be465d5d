/** authentication.k8s.io SelfSubjectReview (v1 and v1beta1): who the server thinks you are. */
import type { Strategy } from '../types.ts';

function review(version: string): Strategy {
  return {
    info: {
      group: 'authentication.k8s.io',
      version,
      resource: 'selfsubjectreviews',
      singular: 'selfsubjectreview',
      kind: 'SelfSubjectReview',
      namespaced: false,
      verbs: ['create'],
    },
    nameValidation: 'none',
    virtualCreate(_obj, ctx) {
      const u = ctx.user;
      return {
        apiVersion: `authentication.k8s.io/${version}`,
        kind: 'SelfSubjectReview',
        metadata: { creationTimestamp: null as unknown as string },
        status: {
          userInfo: {
            username: u.username,
            ...(u.uid ? { uid: u.uid } : {}),
            groups: u.groups,
            ...(u.extra && Object.keys(u.extra).length ? { extra: u.extra } : {}),
          },
        },
      };
    },
  };
}

export const selfSubjectReviewV1 = review('v1');
export const selfSubjectReviewV1beta1 = review('v1beta1');
