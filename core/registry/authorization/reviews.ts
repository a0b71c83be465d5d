/**
 * authorization.k8s.io/v1 access reviews: SelfSubjectAccessReview, SubjectAccessReview,
 * LocalSubjectAccessReview and SelfSubjectRulesReview, answered by the server's authorizer chain.
 */
import type { KObject } from '../../api/object.ts';
import { errors } from '../../api/status.ts';
import { type FieldError, fieldErr } from '../../api/field-errors.ts';
import type { Attributes, UserInfo } from '../../auth/types.ts';
import type { RequestContext, Strategy } from '../types.ts';

const G = 'authorization.k8s.io';

interface ResourceAttributes {
  namespace?: string;
  verb?: string;
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}
interface NonResourceAttributes {
  path?: string;
  verb?: string;
}
interface ReviewSpec {
  resourceAttributes?: ResourceAttributes;
  nonResourceAttributes?: NonResourceAttributes;
  user?: string;
  groups?: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}

function specOf(obj: KObject): ReviewSpec {
  return (obj['spec'] ?? {}) as ReviewSpec;
}

function validateAttrs(kind: string, s: ReviewSpec): FieldError[] {
  const has = (s.resourceAttributes ? 1 : 0) + (s.nonResourceAttributes ? 1 : 0);
  if (has === 0)
    return [
      fieldErr.invalid(
        'spec.resourceAttributes',
        'null',
        'exactly one of nonResourceAttributes or resourceAttributes must be specified',
      ),
    ];
  if (has === 2)
    return [
      fieldErr.invalid(
        'spec.resourceAttributes',
        s.resourceAttributes,
        'cannot be specified in combination with nonResourceAttributes',
      ),
    ];
  void kind;
  return [];
}

function decide(ctx: RequestContext, user: UserInfo, s: ReviewSpec): Record<string, unknown> {
  const ra = s.resourceAttributes;
  const nra = s.nonResourceAttributes;
  const a: Attributes = ra
    ? {
        user,
        verb: ra.verb ?? '',
        resourceRequest: true,
        apiGroup: ra.group ?? '',
        apiVersion: ra.version ?? '',
        resource: ra.resource ?? '',
        subresource: ra.subresource ?? '',
        namespace: ra.namespace ?? '',
        name: ra.name ?? '',
        path: '',
      }
    : {
        user,
        verb: nra?.verb ?? '',
        resourceRequest: false,
        apiGroup: '',
        apiVersion: '',
        resource: '',
        subresource: '',
        namespace: '',
        name: '',
        path: nra?.path ?? '',
      };
  const r = ctx.authorizer.authorize(a);
  return {
    allowed: r.decision === 'allow',
    ...(r.decision === 'deny' ? { denied: true } : {}),
    ...(r.reason ? { reason: r.reason } : {}),
  };
}

function reviewStrategy(
  resource: string,
  kind: string,
  namespaced: boolean,
  answer: (obj: KObject, ctx: RequestContext) => KObject,
): Strategy {
  return {
    info: {
      group: G,
      version: 'v1',
      resource,
      singular: resource.replace(/s$/, ''),
      kind,
      namespaced,
      verbs: ['create'],
    },
    nameValidation: 'none',
    virtualCreate: answer,
  };
}

function result(obj: KObject, status: Record<string, unknown>): KObject {
  const meta = { ...obj.metadata, creationTimestamp: null as unknown as string };
  delete meta.namespace;
  return { ...obj, metadata: meta, status };
}

export const selfSubjectAccessReview = reviewStrategy(
  'selfsubjectaccessreviews',
  'SelfSubjectAccessReview',
  false,
  (obj, ctx) => {
    const s = specOf(obj);
    const errs = validateAttrs('SelfSubjectAccessReview', s);
    if (errs.length) throw errors.invalid(G, 'SelfSubjectAccessReview', '', errs);
    return result(obj, decide(ctx, ctx.user, s));
  },
);

export const subjectAccessReview = reviewStrategy(
  'subjectaccessreviews',
  'SubjectAccessReview',
  false,
  (obj, ctx) => {
    const s = specOf(obj);
    const errs = validateAttrs('SubjectAccessReview', s);
    if (!s.user && !s.groups?.length)
      errs.push(
        fieldErr.invalid('spec.user', s.user ?? '', '`spec.user` or `spec.groups` must be specified'),
      );
    if (errs.length) throw errors.invalid(G, 'SubjectAccessReview', '', errs);
    const user: UserInfo = {
      username: s.user ?? '',
      groups: s.groups ?? [],
      ...(s.uid ? { uid: s.uid } : {}),
      ...(s.extra ? { extra: s.extra } : {}),
    };
    return result(obj, decide(ctx, user, s));
  },
);

export const localSubjectAccessReview = reviewStrategy(
  'localsubjectaccessreviews',
  'LocalSubjectAccessReview',
  true,
  (obj, ctx) => {
    const s = specOf(obj);
    const errs = validateAttrs('LocalSubjectAccessReview', s);
    if (s.resourceAttributes && s.resourceAttributes.namespace !== obj.metadata.namespace)
      errs.push(
        fieldErr.invalid(
          'spec.resourceAttributes.namespace',
          s.resourceAttributes.namespace ?? '',
          'must match metadata.namespace',
        ),
      );
    if (s.nonResourceAttributes)
      errs.push(
        fieldErr.invalid(
          'spec.nonResourceAttributes',
          s.nonResourceAttributes,
          'disallowed on this kind of request',
        ),
      );
    if (errs.length) throw errors.invalid(G, 'LocalSubjectAccessReview', '', errs);
    const user: UserInfo = { username: s.user ?? '', groups: s.groups ?? [] };
    const out = result(obj, decide(ctx, user, s));
    out.metadata.namespace = obj.metadata.namespace;
    return out;
  },
);

export const selfSubjectRulesReview = reviewStrategy(
  'selfsubjectrulesreviews',
  'SelfSubjectRulesReview',
  false,
  (obj, ctx) => {
    const ns = ((obj['spec'] ?? {}) as { namespace?: string }).namespace ?? '';
    const r = ctx.authorizer.rulesFor(ctx.user, ns);
    return result(obj, {
      resourceRules: r.resourceRules,
      nonResourceRules: r.nonResourceRules,
      incomplete: r.incomplete,
      ...(r.evaluationError ? { evaluationError: r.evaluationError } : {}),
    });
  },
);

export const authorizationStrategies: readonly Strategy[] = [
  localSubjectAccessReview,
  selfSubjectAccessReview,
  selfSubjectRulesReview,
  subjectAccessReview,
];
