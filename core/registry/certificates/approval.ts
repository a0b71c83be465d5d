/**
 * certificatesigningrequests/{name}/approval (what `kubectl certificate approve|deny` PUT): only the
 * Approved/Denied conditions change. As the CertificateApproval admission plugin, the caller also needs
 * the `approve` verb on `signers` (certificates.k8s.io) for the request's signerName or `<domain>/*`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KObject } from '../../api/object.ts';
import { errors } from '../../api/status.ts';
import type { Authorizer, UserInfo } from '../../auth/types.ts';
import { decodeBody, type ProtobufDecoder } from '../../apiserver/body.ts';
import type { GenericRegistry } from '../../apiserver/generic-registry.ts';
import { readBody, sendJSON } from '../../apiserver/http-util.ts';
import type { RequestInfo } from '../../apiserver/request-info.ts';
import type { Served } from '../../apiserver/resources.ts';
import type { RequestContext } from '../types.ts';
import { CSR_GROUP, csrSpec } from './certificatesigningrequests.ts';

/** Whether `user` may act (`verb`: approve, sign) for signerName, by its exact name or `<domain>/*`. */
export function allowedForSigner(
  authorizer: Authorizer,
  user: UserInfo,
  verb: string,
  signerName: string,
): boolean {
  const names = [signerName, `${signerName.split('/')[0]}/*`];
  return names.some(
    (name) =>
      authorizer.authorize({
        user,
        verb,
        resourceRequest: true,
        apiGroup: CSR_GROUP,
        apiVersion: '*',
        resource: 'signers',
        subresource: '',
        namespace: '',
        name,
        path: '',
      }).decision === 'allow',
  );
}

export function csrApprovalHandler(registry: GenericRegistry, protobuf?: ProtobufDecoder) {
  return async (
    req: IncomingMessage,
    res: ServerResponse,
    info: RequestInfo,
    s: Served,
    ctx: RequestContext,
    q: URLSearchParams,
  ): Promise<void> => {
    if (info.verb === 'get') return sendJSON(res, 200, registry.get(s, '', info.name));
    if (info.verb !== 'update')
      throw errors.methodNotSupported(
        { group: CSR_GROUP, resource: 'certificatesigningrequests/approval' },
        info.verb,
      );
    const body = decodeBody(
      await readBody(req),
      req.headers['content-type'],
      { apiVersion: `${CSR_GROUP}/v1`, kind: 'CertificateSigningRequest' },
      protobuf,
    ) as KObject;
    const old = registry.get(s, '', info.name);
    const signer = csrSpec(old).signerName ?? '';
    if (!allowedForSigner(ctx.authorizer, ctx.user, 'approve', signer))
      throw errors.forbidden(
        { group: CSR_GROUP, resource: 'certificatesigningrequests' },
        info.name,
        `user not permitted to approve requests with signerName "${signer}"`,
      );
    const next: KObject = {
      ...old,
      metadata: { ...body.metadata, name: info.name },
      status: body['status'] ?? {},
    };
    const { object } = registry.update(
      s,
      '',
      info.name,
      next,
      { ...ctx, subresource: 'approval' },
      { subresource: 'status', fieldManager: q.get('fieldManager') ?? undefined },
    );
    sendJSON(res, 200, object);
  };
}
