/**
 * authentication.k8s.io/v1 TokenReview: is this bearer token valid, and for whom? Answered by the API
 * server's own token authenticators (static tokens, service-account tokens). Requested audiences must
 * intersect the API server's (`apiAudiences`); the answer lists that intersection.
 */
import type { KObject } from '../../api/object.ts';
import { errors } from '../../api/status.ts';
import { fieldErr } from '../../api/field-errors.ts';
import { AUTHENTICATED, type TokenAuthenticator, type UserInfo } from '../../auth/types.ts';
import type { Strategy } from '../types.ts';

const G = 'authentication.k8s.io';

export function tokenReviewStrategy(
  authenticators: readonly TokenAuthenticator[],
  apiAudiences: readonly string[],
): Strategy {
  return {
    info: {
      group: G,
      version: 'v1',
      resource: 'tokenreviews',
      singular: 'tokenreview',
      kind: 'TokenReview',
      namespaced: false,
      verbs: ['create'],
    },
    nameValidation: 'none',
    virtualCreate(obj: KObject) {
      const spec = (obj['spec'] ?? {}) as { token?: string; audiences?: string[] };
      if (!spec.token)
        throw errors.invalid(G, 'TokenReview', '', [
          fieldErr.required('spec.token', 'token must not be empty'),
        ]);
      const wanted = spec.audiences?.length ? spec.audiences : [...apiAudiences];
      const audiences = wanted.filter((a) => apiAudiences.includes(a));
      let user: UserInfo | undefined;
      if (audiences.length)
        for (const a of authenticators) {
          user = a.authenticateToken(spec.token);
          if (user) break;
        }
      const status = user
        ? {
            authenticated: true,
            user: {
              username: user.username,
              ...(user.uid ? { uid: user.uid } : {}),
              groups: [...new Set([...user.groups, AUTHENTICATED])],
              ...(user.extra && Object.keys(user.extra).length ? { extra: user.extra } : {}),
            },
            audiences,
          }
        : {
            user: {},
            error: audiences.length
              ? 'invalid bearer token'
              : 'token audiences are invalid for the target audiences',
          };
      return {
        apiVersion: `${G}/v1`,
        kind: 'TokenReview',
        metadata: { creationTimestamp: null as unknown as string },
        spec,
        status,
      };
    },
  };
}
