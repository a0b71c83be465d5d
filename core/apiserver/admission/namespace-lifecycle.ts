/**
 * NamespaceLifecycle admission: objects can only be created in namespaces that exist and are not being
 * terminated, and the system namespaces cannot be deleted.
 */
import { errors } from '../../api/status.ts';
import type { AdmissionPlugin, GenericRegistry } from '../generic-registry.ts';

const IMMORTAL = new Set(['default', 'kube-system', 'kube-public']);

export function namespaceLifecycle(registry: GenericRegistry): AdmissionPlugin {
  const nsServed = () => registry.table.lookup('', 'v1', 'namespaces');
  return {
    name: 'NamespaceLifecycle',
    validate(op, s, obj) {
      const info = s.strategy.info;
      if (info.group === '' && info.resource === 'namespaces') {
        if (op === 'DELETE' && IMMORTAL.has(obj.metadata.name ?? ''))
          throw errors.forbidden(
            { group: '', resource: 'namespaces' },
            obj.metadata.name ?? obj.metadata.generateName ?? '',
            'this namespace may not be deleted',
          );
        return;
      }
      if (op !== 'CREATE' || !info.namespaced) return;
      const ns = obj.metadata.namespace ?? '';
      const served = nsServed();
      if (!served) return;
      const nsObj = registry.tryGet(served, '', ns);
      if (!nsObj) throw errors.notFound({ group: '', resource: 'namespaces' }, ns);
      if (nsObj.metadata.deletionTimestamp)
        throw errors.forbidden(
          { group: info.group, resource: info.resource },
          obj.metadata.name ?? obj.metadata.generateName ?? '',
          `unable to create new content in namespace ${ns} because it is being terminated`,
        );
    },
  };
}
