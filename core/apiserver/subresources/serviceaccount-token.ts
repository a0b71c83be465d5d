/**
 * POST serviceaccounts/{name}/token (the TokenRequest API): a signed token for the service account,
 * optionally bound to a Pod, Secret or Node (the token dies with that object). What `kubectl create
 * token` and the kubelet's projected service-account volumes use.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { rfc3339, type KObject } from '../../api/object.ts';
import { errors } from '../../api/status.ts';
import type { RequestContext } from '../../registry/types.ts';
import type { BoundObject, ServiceAccountTokens } from '../../auth/service-account-token.ts';
import { decodeBody, type ProtobufDecoder } from '../body.ts';
import type { GenericRegistry } from '../generic-registry.ts';
import { readBody, sendJSON } from '../http-util.ts';
import type { RequestInfo } from '../request-info.ts';
import type { Served } from '../resources.ts';

const MIN_SECONDS = 600;
const MAX_SECONDS = 2 ** 32;
const BOUND_KINDS: Record<string, { group: string; resource: string; namespaced: boolean }> = {
  Pod: { group: '', resource: 'pods', namespaced: true },
  Secret: { group: '', resource: 'secrets', namespaced: true },
  Node: { group: '', resource: 'nodes', namespaced: false },
};

interface TokenRequestSpec {
  audiences?: string[];
  expirationSeconds?: number;
  boundObjectRef?: { kind?: string; apiVersion?: string; name?: string; uid?: string };
}

export function serviceAccountTokenHandler(
  registry: GenericRegistry,
  tokens: ServiceAccountTokens,
  served: (group: string, resource: string) => Served | undefined,
  protobuf?: ProtobufDecoder,
) {
  return async (
    req: IncomingMessage,
    res: ServerResponse,
    info: RequestInfo,
    s: Served,
    ctx: RequestContext,
  ): Promise<void> => {
    if (info.verb !== 'create')
      throw errors.methodNotSupported({ group: '', resource: 'serviceaccounts/token' }, info.verb);
    const body = decodeBody(
      await readBody(req),
      req.headers['content-type'],
      { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest' },
      protobuf,
    ) as KObject;
    const spec = (body['spec'] ?? {}) as TokenRequestSpec;
    const expirationSeconds = spec.expirationSeconds ?? 3600;
    const invalid = (field: string, value: unknown, detail: string) =>
      errors.invalid('authentication.k8s.io', 'TokenRequest', info.name, [
        { type: 'FieldValueInvalid', field, value, detail },
      ]);
    if (!Number.isInteger(expirationSeconds) || expirationSeconds < MIN_SECONDS)
      throw invalid(
        'spec.expirationSeconds',
        expirationSeconds,
        'may not specify a duration less than 10 minutes',
      );
    if (expirationSeconds > MAX_SECONDS)
      throw invalid(
        'spec.expirationSeconds',
        expirationSeconds,
        'may not specify a duration larger than 2^32 seconds',
      );

    const sa = registry.get(s, info.namespace, info.name);
    let bound: BoundObject | undefined;
    const ref = spec.boundObjectRef;
    if (ref) {
      const kind = BOUND_KINDS[ref.kind ?? ''];
      if (!kind || !ref.name)
        throw invalid('spec.boundObjectRef.kind', ref.kind, 'supported values: "Pod", "Secret", "Node"');
      const target = served(kind.group, kind.resource);
      if (!target) throw errors.internal(`no ${kind.resource} resource`);
      const obj = registry.get(target, kind.namespaced ? info.namespace : '', ref.name);
      if (ref.uid && ref.uid !== obj.metadata.uid)
        throw errors.conflict(
          { group: '', resource: kind.resource },
          ref.name,
          `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
        );
      bound = { kind: ref.kind as BoundObject['kind'], name: ref.name, uid: obj.metadata.uid ?? '' };
    }
    const { token, claims } = tokens.issue({
      namespace: info.namespace,
      serviceAccount: { name: info.name, uid: sa.metadata.uid ?? '' },
      ...(spec.audiences?.length ? { audiences: spec.audiences } : {}),
      expirationSeconds,
      ...(bound ? { bound } : {}),
      now: ctx.now,
    });
    sendJSON(res, 201, {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { name: info.name, namespace: info.namespace, creationTimestamp: rfc3339(ctx.now) },
      spec: { audiences: claims.aud, expirationSeconds, boundObjectRef: spec.boundObjectRef ?? null },
      status: { token, expirationTimestamp: rfc3339(new Date(claims.exp * 1000)) },
    });
  };
}
