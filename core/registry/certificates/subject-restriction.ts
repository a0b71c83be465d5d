/**
 * The CertificateSubjectRestriction admission plugin: a CertificateSigningRequest for the
 * kubernetes.io/kube-apiserver-client signer may not ask for the system:masters group (a certificate in
 * that group would bypass authorization), refused with 403 at create, as upstream.
 */
import { errors } from '../../api/status.ts';
import { SYSTEM_MASTERS } from '../../auth/types.ts';
import type { AdmissionPlugin } from '../../apiserver/generic-registry.ts';
import { CSR_GROUP, KUBE_APISERVER_CLIENT_SIGNER, csrSpec, parseCsr } from './certificatesigningrequests.ts';

/** The subject organizations (groups) a request asks for; [] when it does not parse. */
export function requestedGroups(requestB64: string | undefined): string[] {
  const csr = parseCsr(requestB64);
  return typeof csr === 'string' ? [] : csr.subjectName.getField('O');
}

export function csrSubjectRestriction(): AdmissionPlugin {
  return {
    name: 'CertificateSubjectRestriction',
    validate(op, s, obj) {
      if (op !== 'CREATE' || s.strategy.info.group !== CSR_GROUP) return;
      if (s.strategy.info.resource !== 'certificatesigningrequests') return;
      const spec = csrSpec(obj);
      if (spec.signerName !== KUBE_APISERVER_CLIENT_SIGNER) return;
      if (requestedGroups(spec.request).includes(SYSTEM_MASTERS))
        throw errors.forbidden(
          { group: CSR_GROUP, resource: 'certificatesigningrequests' },
          obj.metadata.name ?? '',
          `use of ${KUBE_APISERVER_CLIENT_SIGNER} signer with system:masters group is not allowed`,
        );
    },
  };
}
