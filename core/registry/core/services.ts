/** core/v1 Service (pkg/registry/core/service/strategy.go, ValidateService, printService). */
import type { Service, ServicePort, ServiceSpec } from 'kubernetes-types/core/v1';
import type { KObject } from '../../api/object.ts';
import { type FieldError, fieldErr } from '../../api/field-errors.ts';
import type { TableCell, TableColumn, Verb } from '../types.ts';
import { age, ageColumn, formatMapSelector, nameColumn } from '../printers.ts';
import { validateLabels } from '../validation/meta.ts';
import { isDNS1123Subdomain, isIPv4, isQualifiedName } from '../validation/names.ts';
import {
  type CoreStrategy,
  dns1123LabelErrs,
  inclusiveRangeError,
  isValidPortNum,
  validatePortNumOrName,
} from './common.ts';
import { initIPFamilyFields, normalizeClusterIPs, patchAllocatedNodePorts } from './service-allocator.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type MSpec = Mutable<ServiceSpec>;
type MService = Mutable<Service> & { spec: MSpec };
const asSvc = (o: KObject): MService => {
  if (typeof o['spec'] !== 'object' || o['spec'] === null) o['spec'] = {};
  return o as unknown as MService;
};

export const ipErrorMsg = 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)';

export function isIP(s: string): boolean {
  if (isIPv4(s)) return true;
  if (!s.includes(':')) return false;
  try {
    new URL(`http://[${s}]/`);
    return /^[0-9a-fA-F:.]+$/.test(s);
  } catch {
    return false;
  }
}

/** SetDefaults_Service. */
export function defaultService(obj: KObject): void {
  const spec = asSvc(obj).spec;
  if (!spec.sessionAffinity) spec.sessionAffinity = 'None';
  if (spec.sessionAffinity === 'ClientIP') {
    const cfg = (spec.sessionAffinityConfig ??= {}) as Mutable<
      NonNullable<ServiceSpec['sessionAffinityConfig']>
    >;
    const cip = (cfg.clientIP ??= {}) as { timeoutSeconds?: number };
    if (cip.timeoutSeconds === undefined) cip.timeoutSeconds = 10800;
  }
  if (!spec.type) spec.type = 'ClusterIP';
  for (const p of (spec.ports ?? []) as Mutable<ServicePort>[]) {
    if (!p.protocol) p.protocol = 'TCP';
    if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  if ((spec.type === 'NodePort' || spec.type === 'LoadBalancer') && !spec.externalTrafficPolicy)
    spec.externalTrafficPolicy = 'Cluster';
  if (spec.type !== 'ExternalName' && !spec.internalTrafficPolicy) spec.internalTrafficPolicy = 'Cluster';
  if (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts === undefined)
    spec.allocateLoadBalancerNodePorts = true;
}

/** dropTypeDependentFields: fields that only make sense for the old type are cleared when the user did not touch them. */
function dropTypeDependentFields(spec: MSpec, old: MSpec): void {
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  if (spec.type === 'ExternalName' && old.type !== 'ExternalName') {
    if (same(spec.clusterIP, old.clusterIP)) delete spec.clusterIP;
    if (same(spec.clusterIPs, old.clusterIPs)) delete spec.clusterIPs;
    if (same(spec.ipFamilies, old.ipFamilies)) delete spec.ipFamilies;
    if (same(spec.ipFamilyPolicy, old.ipFamilyPolicy)) delete spec.ipFamilyPolicy;
  }
  const needsNP = (t: string | undefined): boolean => t === 'NodePort' || t === 'LoadBalancer';
  if (!needsNP(spec.type) && needsNP(old.type)) {
    const olds = old.ports ?? [];
    for (const p of (spec.ports ?? []) as Mutable<ServicePort>[]) {
      const o = olds.find((x) => x.port === p.port && (x.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
      if (p.nodePort && o && o.nodePort === p.nodePort) delete p.nodePort;
    }
    if (same(spec.externalTrafficPolicy, old.externalTrafficPolicy)) delete spec.externalTrafficPolicy;
  }
  if (spec.type !== 'LoadBalancer' && old.type === 'LoadBalancer') {
    if (same(spec.healthCheckNodePort, old.healthCheckNodePort)) delete spec.healthCheckNodePort;
    if (same(spec.allocateLoadBalancerNodePorts, old.allocateLoadBalancerNodePorts))
      delete spec.allocateLoadBalancerNodePorts;
    if (same(spec.loadBalancerClass, old.loadBalancerClass)) delete spec.loadBalancerClass;
  }
  if (spec.type === 'ExternalName' && same(spec.internalTrafficPolicy, old.internalTrafficPolicy))
    delete spec.internalTrafficPolicy;
}

const serviceTypes = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const protocols = ['SCTP', 'TCP', 'UDP'];

export function validateService(obj: KObject): FieldError[] {
  const spec = asSvc(obj).spec;
  const errs: FieldError[] = [];
  const type = spec.type ?? '';
  if (!serviceTypes.includes(type)) errs.push(fieldErr.notSupported('spec.type', type, serviceTypes));
  const headless = spec.clusterIP === 'None';
  const ports = spec.ports ?? [];
  if (type === 'ExternalName') {
    if (spec.clusterIP)
      errs.push(fieldErr.forbidden('spec.clusterIP', 'may not be set for ExternalName services'));
    if ((spec.clusterIPs ?? []).length)
      errs.push(fieldErr.forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
    if ((spec.ipFamilies ?? []).length)
      errs.push(fieldErr.forbidden('spec.ipFamilies', 'may not be set for ExternalName services'));
    if (spec.ipFamilyPolicy)
      errs.push(fieldErr.forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services'));
    const name = (spec.externalName ?? '').replace(/\.$/, '');
    if (!name) errs.push(fieldErr.required('spec.externalName', ''));
    else
      for (const m of isDNS1123Subdomain(name))
        errs.push(fieldErr.invalid('spec.externalName', spec.externalName, m));
  } else if (!headless && ports.length === 0) {
    errs.push(fieldErr.required('spec.ports', ''));
  }
  // Cluster IPs.
  (spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : [])).forEach((ip, i) => {
    if (i === 0 && ip === 'None') return;
    if (ip === '') return;
    if (!isIP(ip)) errs.push(fieldErr.invalid(`spec.clusterIPs[${i}]`, ip, ipErrorMsg));
  });
  if (spec.clusterIP && spec.clusterIPs?.[0] && spec.clusterIP !== spec.clusterIPs[0])
    errs.push(fieldErr.invalid('spec.clusterIPs', spec.clusterIPs, 'first value must match `clusterIP`'));
  if (headless && (type === 'NodePort' || type === 'LoadBalancer'))
    errs.push(
      fieldErr.invalid('spec.clusterIPs[0]', 'None', `may not be set to 'None' for ${type} services`),
    );
  // Ports.
  const names = new Set<string>();
  const keys = new Set<string>();
  const nodePorts = new Set<string>();
  ports.forEach((p, i) => {
    const pp = `spec.ports[${i}]`;
    if (ports.length > 1 && !p.name) errs.push(fieldErr.required(`${pp}.name`, ''));
    else if (p.name) {
      errs.push(...dns1123LabelErrs(p.name, `${pp}.name`));
      if (names.has(p.name)) errs.push(fieldErr.duplicate(`${pp}.name`, p.name));
      names.add(p.name);
    }
    if (!isValidPortNum(p.port))
      errs.push(fieldErr.invalid(`${pp}.port`, p.port ?? 0, inclusiveRangeError(1, 65535)));
    if (!p.protocol) errs.push(fieldErr.required(`${pp}.protocol`, ''));
    else if (!protocols.includes(p.protocol))
      errs.push(fieldErr.notSupported(`${pp}.protocol`, p.protocol, protocols));
    if (type !== 'ExternalName' || p.targetPort !== undefined)
      errs.push(...validatePortNumOrName(p.targetPort, `${pp}.targetPort`));
    const key = `${p.port}/${p.protocol}`;
    if (keys.has(key)) errs.push(fieldErr.duplicate(pp, { port: p.port, protocol: p.protocol }));
    keys.add(key);
    if (p.nodePort) {
      if (type === 'ClusterIP')
        errs.push(fieldErr.forbidden(`${pp}.nodePort`, "may not be used when `type` is 'ClusterIP'"));
      else if (type === 'ExternalName')
        errs.push(fieldErr.forbidden(`${pp}.nodePort`, "may not be used when `type` is 'ExternalName'"));
      const nk = `${p.nodePort}/${p.protocol}`;
      if (nodePorts.has(nk)) errs.push(fieldErr.duplicate(`${pp}.nodePort`, p.nodePort));
      nodePorts.add(nk);
    }
    if (p.appProtocol)
      for (const m of isQualifiedName(p.appProtocol))
        errs.push(fieldErr.invalid(`${pp}.appProtocol`, p.appProtocol, m));
  });
  // Session affinity.
  const sa = spec.sessionAffinity ?? '';
  if (!sa) errs.push(fieldErr.required('spec.sessionAffinity', ''));
  else if (sa !== 'ClientIP' && sa !== 'None')
    errs.push(fieldErr.notSupported('spec.sessionAffinity', sa, ['ClientIP', 'None']));
  if (sa === 'ClientIP') {
    const t = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
    if (typeof t !== 'number' || t <= 0 || t > 86400)
      errs.push(
        fieldErr.invalid(
          'spec.sessionAffinityConfig.clientIP.timeoutSeconds',
          t ?? 0,
          'must be greater than 0 and less than 86400',
        ),
      );
  } else if (spec.sessionAffinityConfig) {
    errs.push(
      fieldErr.invalid(
        'spec.sessionAffinityConfig',
        spec.sessionAffinityConfig,
        'must not be set when session affinity is None',
      ),
    );
  }
  // Traffic policies.
  const etp = spec.externalTrafficPolicy;
  if (type === 'NodePort' || type === 'LoadBalancer') {
    if (!etp) errs.push(fieldErr.required('spec.externalTrafficPolicy', ''));
    else if (etp !== 'Cluster' && etp !== 'Local')
      errs.push(fieldErr.notSupported('spec.externalTrafficPolicy', etp, ['Cluster', 'Local']));
  } else if (etp) {
    errs.push(
      fieldErr.invalid(
        'spec.externalTrafficPolicy',
        etp,
        "may only be set when `type` is 'NodePort' or 'LoadBalancer'",
      ),
    );
  }
  if (type !== 'ExternalName') {
    const itp = spec.internalTrafficPolicy;
    if (!itp) errs.push(fieldErr.required('spec.internalTrafficPolicy', ''));
    else if (itp !== 'Cluster' && itp !== 'Local')
      errs.push(fieldErr.notSupported('spec.internalTrafficPolicy', itp, ['Cluster', 'Local']));
  }
  if (spec.healthCheckNodePort && !(type === 'LoadBalancer' && etp === 'Local'))
    errs.push(
      fieldErr.invalid(
        'spec.healthCheckNodePort',
        spec.healthCheckNodePort,
        "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
      ),
    );
  if (spec.allocateLoadBalancerNodePorts !== undefined && type !== 'LoadBalancer')
    errs.push(
      fieldErr.forbidden(
        'spec.allocateLoadBalancerNodePorts',
        "may only be used when `type` is 'LoadBalancer'",
      ),
    );
  if (type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts === undefined)
    errs.push(fieldErr.required('spec.allocateLoadBalancerNodePorts', ''));
  (spec.externalIPs ?? []).forEach((ip, i) => {
    if (!isIP(ip)) errs.push(fieldErr.invalid(`spec.externalIPs[${i}]`, ip, ipErrorMsg));
  });
  errs.push(...validateLabels(spec.selector, 'spec.selector'));
  const pol = spec.ipFamilyPolicy;
  if (pol && !['SingleStack', 'PreferDualStack', 'RequireDualStack'].includes(pol))
    errs.push(
      fieldErr.notSupported('spec.ipFamilyPolicy', pol, [
        'PreferDualStack',
        'RequireDualStack',
        'SingleStack',
      ]),
    );
  (spec.ipFamilies ?? []).forEach((f, i) => {
    if (f !== 'IPv4' && f !== 'IPv6')
      errs.push(fieldErr.notSupported(`spec.ipFamilies[${i}]`, f, ['IPv4', 'IPv6']));
  });
  return errs;
}

export function validateServiceUpdate(obj: KObject, old: KObject): FieldError[] {
  const spec = asSvc(obj).spec;
  const o = asSvc(old).spec;
  const errs: FieldError[] = [];
  if (spec.type !== 'ExternalName' && o.type !== 'ExternalName') {
    const oldIPs = o.clusterIPs ?? (o.clusterIP ? [o.clusterIP] : []);
    const newIPs = spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : []);
    if (oldIPs.length && oldIPs[0] !== newIPs[0])
      errs.push(fieldErr.invalid('spec.clusterIPs[0]', newIPs, 'may not change once set'));
    if (
      (o.ipFamilies ?? []).length &&
      (spec.ipFamilies ?? []).length &&
      o.ipFamilies![0] !== spec.ipFamilies![0]
    )
      errs.push(fieldErr.invalid('spec.ipFamilies[0]', spec.ipFamilies![0], 'may not change once set'));
  }
  if (
    o.loadBalancerClass &&
    spec.type === 'LoadBalancer' &&
    o.type === 'LoadBalancer' &&
    spec.loadBalancerClass !== o.loadBalancerClass
  )
    errs.push(
      fieldErr.invalid('spec.loadBalancerClass', spec.loadBalancerClass ?? null, 'may not change once set'),
    );
  return errs;
}

// ---------------------------------------------------------------------------------------------
// Printer
// ---------------------------------------------------------------------------------------------

export const serviceColumns: readonly TableColumn[] = [
  nameColumn,
  {
    name: 'Type',
    type: 'string',
    description:
      'type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer. "ClusterIP" allocates a cluster-internal IP address for load-balancing to endpoints. Endpoints are determined by the selector or if that is not specified, by manual construction of an Endpoints object or EndpointSlice objects. If clusterIP is "None", no virtual IP is allocated and the endpoints are published as a set of endpoints rather than a virtual IP. "NodePort" builds on ClusterIP and allocates a port on every node which routes to the same endpoints as the clusterIP. "LoadBalancer" builds on NodePort and creates an external load-balancer (if supported in the current cloud) which routes to the same endpoints as the clusterIP. "ExternalName" aliases this service to the specified externalName. Several other fields do not apply to ExternalName services. More info: https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types',
  },
  {
    name: 'Cluster-IP',
    type: 'string',
    description:
      'clusterIP is the IP address of the service and is usually assigned randomly. If an address is specified manually, is in-range (as per system configuration), and is not in use, it will be allocated to the service; otherwise creation of the service will fail. This field may not be changed through updates unless the type field is also being changed to ExternalName (which requires this field to be blank) or the type field is being changed from ExternalName (in which case this field may optionally be specified, as describe above).  Valid values are "None", empty string (""), or a valid IP address. Setting this to "None" makes a "headless service" (no virtual IP), which is useful when direct endpoint connections are preferred and proxying is not required.  Only applies to types ClusterIP, NodePort, and LoadBalancer. If this field is specified when creating a Service of type ExternalName, creation will fail. This field will be wiped when updating a Service to type ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies',
  },
  {
    name: 'External-IP',
    type: 'string',
    description:
      'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.  These IPs are not managed by Kubernetes.  The user is responsible for ensuring that traffic arrives at a node with this IP.  A common example is external load-balancers that are not part of the Kubernetes system.',
  },
  {
    name: 'Port(s)',
    type: 'string',
    description:
      'The list of ports that are exposed by this service. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies',
  },
  ageColumn,
  {
    name: 'Selector',
    type: 'string',
    priority: 1,
    description:
      'Route service traffic to pods with label keys and values matching this selector. If empty or not present, the service is assumed to have an external process managing its endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored if type is ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/',
  },
];

export function makePortString(ports: readonly ServicePort[] | undefined): string {
  return (ports ?? [])
    .map((p) =>
      p.nodePort && p.nodePort > 0
        ? `${p.port}:${p.nodePort}/${p.protocol ?? ''}`
        : `${p.port}/${p.protocol ?? ''}`,
    )
    .join(',');
}

function loadBalancerIngress(svc: MService): string {
  return (svc.status?.loadBalancer?.ingress ?? [])
    .map((i) => i.ip || i.hostname || '')
    .filter((s) => s !== '')
    .join(',');
}

export function serviceExternalIP(svc: MService): string {
  const spec = svc.spec;
  const ext = spec.externalIPs ?? [];
  switch (spec.type) {
    case 'ClusterIP':
    case 'NodePort':
      return ext.length ? ext.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerIngress(svc);
      if (ext.length) return [...(lb ? lb.split(',') : []), ...ext].join(',');
      return lb || '<pending>';
    }
    case 'ExternalName':
      return spec.externalName ?? '';
  }
  return '<unknown>';
}

export function serviceRow(obj: KObject, now: Date): TableCell[] {
  const svc = asSvc(obj);
  const spec = svc.spec;
  const internalIP = spec.clusterIPs?.[0] ?? '<none>';
  const ports = makePortString(spec.ports) || '<none>';
  return [
    svc.metadata?.name ?? '',
    spec.type ?? '',
    internalIP,
    serviceExternalIP(svc),
    ports,
    age(svc.metadata?.creationTimestamp, now),
    formatMapSelector(spec.selector),
  ];
}

const serviceVerbs: readonly Verb[] = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];

export const serviceStrategy: CoreStrategy = {
  info: {
    group: '',
    version: 'v1',
    resource: 'services',
    singular: 'service',
    kind: 'Service',
    namespaced: true,
    verbs: serviceVerbs,
    shortNames: ['svc'],
    categories: ['all'],
  },
  hasStatus: true,
  extraSubresources: [
    { name: 'proxy', kind: 'ServiceProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] },
  ],
  defaults: defaultService,
  prepareForCreate(obj) {
    const svc = asSvc(obj);
    svc.status = { loadBalancer: {} };
    if (svc.spec.type !== 'ExternalName') {
      normalizeClusterIPs(svc.spec, undefined);
      initIPFamilyFields(svc.spec, undefined);
    }
  },
  prepareForUpdate(obj, old) {
    const svc = asSvc(obj);
    const o = asSvc(old).spec;
    dropTypeDependentFields(svc.spec, o);
    if (svc.spec.type !== 'ExternalName') {
      normalizeClusterIPs(svc.spec, o.type === 'ExternalName' ? undefined : o);
      initIPFamilyFields(svc.spec, o.type === 'ExternalName' ? undefined : o);
    }
    patchAllocatedNodePorts(svc.spec, o);
  },
  prepareForStatusUpdate(obj) {
    const svc = asSvc(obj);
    if (!svc.status) svc.status = { loadBalancer: {} };
    else if (!svc.status.loadBalancer) svc.status = { ...svc.status, loadBalancer: {} };
  },
  validate: validateService,
  validateUpdate: validateServiceUpdate,
  validateStatusUpdate(obj) {
    const errs: FieldError[] = [];
    (asSvc(obj).status?.loadBalancer?.ingress ?? []).forEach((ing, i) => {
      if (ing.ip && !isIP(ing.ip))
        errs.push(fieldErr.invalid(`status.loadBalancer.ingress[${i}].ip`, ing.ip, ipErrorMsg));
      if (ing.hostname && isIP(ing.hostname))
        errs.push(
          fieldErr.invalid(
            `status.loadBalancer.ingress[${i}].hostname`,
            ing.hostname,
            'must be a DNS name, not an IP address',
          ),
        );
    });
    return errs;
  },
  columns: serviceColumns,
  row: serviceRow,
};
