/**
 * ServiceAccount admission: on pod create, default spec.serviceAccountName, refuse pods whose account
 * does not exist (403, as Kubernetes), project the API token volume into every container, and give a
 * pod without imagePullSecrets those of its service account.
 */
import { errors } from '../../api/status.ts';
import { serviceAccountAdmission } from '../../registry/core/pods.ts';
import type { AdmissionPlugin, GenericRegistry } from '../generic-registry.ts';
import type { KObject } from '../../api/object.ts';

/** A pod without imagePullSecrets gets its service account's, as upstream's ServiceAccount admission. */
export function copyImagePullSecrets(pod: KObject, sa: KObject): void {
  const refs = (sa['imagePullSecrets'] ?? []) as { name?: string }[];
  const spec = (pod['spec'] ??= {}) as { imagePullSecrets?: { name: string }[] };
  if (spec.imagePullSecrets?.length || !Array.isArray(refs) || !refs.length) return;
  spec.imagePullSecrets = refs.map((r) => ({ name: r.name ?? '' }));
}

export function serviceAccountPlugin(registry: GenericRegistry): AdmissionPlugin {
  return {
    name: 'ServiceAccount',
    admit(op, s, obj) {
      if (op !== 'CREATE' || s.strategy.info.group !== '' || s.strategy.info.resource !== 'pods') return;
      const spec = (obj['spec'] ?? {}) as { serviceAccountName?: string };
      const saServed = registry.table.lookup('', 'v1', 'serviceaccounts');
      const saName = spec.serviceAccountName || 'default';
      const sa = saServed ? registry.tryGet(saServed, obj.metadata.namespace ?? '', saName) : undefined;
      const refusal = serviceAccountAdmission(obj, sa);
      if (refusal)
        throw errors.forbidden(
          { group: '', resource: 'pods' },
          obj.metadata.name ?? obj.metadata.generateName ?? '',
          refusal,
        );
      if (sa) copyImagePullSecrets(obj, sa);
    },
  };
}
