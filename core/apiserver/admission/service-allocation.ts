/**
 * Service ClusterIP and NodePort allocation as admission: allocate on create/update (before storage),
 * release on delete, and resynchronise from the store whenever a write that allocated did not commit.
 */
import { errors } from '../../api/status.ts';
import type { KObject } from '../../api/object.ts';
import { ServiceAllocator } from '../../registry/core/service-allocator.ts';
import type { AdmissionPlugin, GenericRegistry } from '../generic-registry.ts';
import type { Served } from '../resources.ts';

const isServices = (s: Served): boolean =>
  s.strategy.info.group === '' && s.strategy.info.resource === 'services';

export function serviceAllocation(registry: GenericRegistry, serviceCIDR: string): AdmissionPlugin {
  const alloc = new ServiceAllocator({ serviceCIDR });
  let loaded = false;
  const resync = (): void => {
    const s = registry.table.lookup('', 'v1', 'services');
    if (!s) return;
    alloc.rebuild(registry.list(s, '', {}).items as KObject[]);
    loaded = true;
  };
  return {
    name: 'ServiceAllocation',
    validate(op, s, obj, old) {
      if (!isServices(s) || op === 'DELETE') return;
      if (!loaded) resync();
      const errs = alloc.allocate(obj, old);
      if (errs.length) throw errors.invalid('', 'Service', obj.metadata.name ?? '', errs);
    },
    committed(op, s, obj, old) {
      if (!isServices(s)) return;
      if (op === 'DELETE') alloc.release(old ?? obj);
      else if (op === 'UPDATE') resync();
    },
    aborted(op, s) {
      if (isServices(s) && op !== 'DELETE') resync();
    },
  };
}
