/** networking.k8s.io/v1 Ingress, IngressClass and NetworkPolicy. */
import type { KObject } from '../../api/object.ts';
import { type FieldError, fieldErr } from '../../api/field-errors.ts';
import type { Strategy } from '../types.ts';
import { age, formatLabelSelector } from '../printers.ts';
import { ageColumn, info, nameColumn, resetStatus, spec, status } from '../workload.ts';
import { validateLabelSelector } from '../validation/selectors.ts';
import { isDNS1123Subdomain } from '../validation/names.ts';

const G = 'networking.k8s.io';
type Obj = Record<string, unknown>;
interface Backend {
  service?: { name?: string; port?: { number?: number; name?: string } };
  resource?: { kind?: string; name?: string };
}
interface Path {
  path?: string;
  pathType?: string;
  backend?: Backend;
}
interface Rule {
  host?: string;
  http?: { paths?: Path[] };
}

function validateBackend(b: Backend | undefined, p: string): FieldError[] {
  if (!b) return [fieldErr.required(p, '')];
  const errs: FieldError[] = [];
  if (b.service && b.resource)
    errs.push(fieldErr.invalid(p, b, 'cannot set both resource and service backends'));
  else if (b.service) {
    if (!b.service.name) errs.push(fieldErr.required(`${p}.service.name`, ''));
    const port = b.service.port;
    if (!port || (port.number === undefined && !port.name))
      errs.push(fieldErr.required(`${p}.service.port`, 'port name or number is required'));
    else if (port.number !== undefined && port.name)
      errs.push(fieldErr.invalid(`${p}.service.port`, port, 'cannot set both port name & port number'));
    else if (port.number !== undefined && (port.number < 1 || port.number > 65535))
      errs.push(
        fieldErr.invalid(`${p}.service.port.number`, port.number, 'must be between 1 and 65535, inclusive'),
      );
  } else if (!b.resource) errs.push(fieldErr.invalid(p, b, 'resource or service backend is required'));
  return errs;
}

export const ingressStrategy: Strategy = {
  info: info(G, 'v1', 'ingresses', 'ingress', 'Ingress', true, { shortNames: ['ing'] }),
  hasStatus: true,
  prepareForCreate: resetStatus,
  validate(obj) {
    const s = spec(obj);
    const errs: FieldError[] = [];
    const rules = (s['rules'] ?? []) as Rule[];
    if (!rules.length && !s['defaultBackend'])
      errs.push(fieldErr.invalid('spec', s, 'either `defaultBackend` or `rules` must be specified'));
    if (s['defaultBackend'])
      errs.push(...validateBackend(s['defaultBackend'] as Backend, 'spec.defaultBackend'));
    rules.forEach((r, i) => {
      const p = `spec.rules[${i}]`;
      if (r.host) {
        const host = r.host.startsWith('*.') ? r.host.slice(2) : r.host;
        for (const m of isDNS1123Subdomain(host)) errs.push(fieldErr.invalid(`${p}.host`, r.host, m));
      }
      (r.http?.paths ?? []).forEach((path, j) => {
        const pp = `${p}.http.paths[${j}]`;
        if (!path.pathType) errs.push(fieldErr.required(`${pp}.pathType`, 'pathType must be specified'));
        else if (!['Exact', 'Prefix', 'ImplementationSpecific'].includes(path.pathType))
          errs.push(
            fieldErr.notSupported(`${pp}.pathType`, path.pathType, [
              'Exact',
              'ImplementationSpecific',
              'Prefix',
            ]),
          );
        if ((path.pathType === 'Exact' || path.pathType === 'Prefix') && !(path.path ?? '').startsWith('/'))
          errs.push(fieldErr.invalid(`${pp}.path`, path.path ?? '', 'must be an absolute path'));
        errs.push(...validateBackend(path.backend, `${pp}.backend`));
      });
    });
    return errs;
  },
  columns: [
    nameColumn,
    {
      name: 'Class',
      type: 'string',
      description: 'The name of the IngressClass resource that should be used for ingress.',
    },
    {
      name: 'Hosts',
      type: 'string',
      description: 'Hosts that incoming requests are matched against before the ingress rule',
    },
    {
      name: 'Address',
      type: 'string',
      description: 'Address is a list containing ingress points for the load-balancer',
    },
    { name: 'Ports', type: 'string', description: 'Ports of TLS configurations that open' },
    ageColumn,
  ],
  row(obj: KObject, now) {
    const s = spec(obj);
    const hosts = ((s['rules'] ?? []) as Rule[]).map((r) => r.host).filter(Boolean) as string[];
    const hostCell =
      hosts.length === 0
        ? '*'
        : hosts.length > 4
          ? `${hosts.slice(0, 4).join(',')} + ${hosts.length - 4} more...`
          : hosts.join(',');
    const lb = (((status(obj)['loadBalancer'] ?? {}) as Obj)['ingress'] ?? []) as {
      ip?: string;
      hostname?: string;
    }[];
    const addr = lb
      .map((i) => i.ip || i.hostname)
      .filter(Boolean)
      .join(',');
    const ports = ((s['tls'] ?? []) as unknown[]).length ? '80, 443' : '80';
    return [
      obj.metadata.name ?? '',
      String(s['ingressClassName'] ?? '<none>'),
      hostCell,
      addr,
      ports,
      age(obj.metadata.creationTimestamp, now),
    ];
  },
};

export const ingressClassStrategy: Strategy = {
  info: info(G, 'v1', 'ingressclasses', 'ingressclass', 'IngressClass', false),
  validate(obj) {
    const c = spec(obj)['controller'];
    return typeof c === 'string' && c ? [] : [fieldErr.required('spec.controller', '')];
  },
  columns: [
    nameColumn,
    {
      name: 'Controller',
      type: 'string',
      description: 'Controller that is responsible for handling this class',
    },
    {
      name: 'Parameters',
      type: 'string',
      description: 'A reference to a resource with additional parameters',
    },
    ageColumn,
  ],
  row(obj, now) {
    const p = spec(obj)['parameters'] as { kind?: string; name?: string; apiGroup?: string } | undefined;
    const params = p ? `${p.kind}.${p.apiGroup ?? ''}/${p.name}`.replace('./', '/') : '<none>';
    return [
      obj.metadata.name ?? '',
      String(spec(obj)['controller'] ?? ''),
      params,
      age(obj.metadata.creationTimestamp, now),
    ];
  },
};

export const networkPolicyStrategy: Strategy = {
  info: info(G, 'v1', 'networkpolicies', 'networkpolicy', 'NetworkPolicy', true, { shortNames: ['netpol'] }),
  defaults(obj) {
    const s = (obj['spec'] ??= {}) as Obj;
    s['podSelector'] ??= {};
    for (const dir of ['ingress', 'egress'])
      for (const rule of (s[dir] ?? []) as { ports?: { protocol?: string }[] }[])
        for (const p of rule.ports ?? []) p.protocol ??= 'TCP';
    if (!s['policyTypes']) s['policyTypes'] = s['egress'] ? ['Ingress', 'Egress'] : ['Ingress'];
  },
  validate(obj) {
    const s = spec(obj);
    const errs = validateLabelSelector(s['podSelector'], 'spec.podSelector');
    for (const t of (s['policyTypes'] ?? []) as string[])
      if (t !== 'Ingress' && t !== 'Egress')
        errs.push(fieldErr.notSupported('spec.policyTypes', t, ['Ingress', 'Egress']));
    return errs;
  },
  columns: [
    nameColumn,
    {
      name: 'Pod-Selector',
      type: 'string',
      description: 'Selects the pods to which this NetworkPolicy object applies.',
    },
    ageColumn,
  ],
  row(obj, now) {
    const sel = formatLabelSelector(spec(obj)['podSelector']);
    return [
      obj.metadata.name ?? '',
      sel === '<none>' ? '<none>' : sel,
      age(obj.metadata.creationTimestamp, now),
    ];
  },
};

export const networkingStrategies: readonly Strategy[] = [
  ingressClassStrategy,
  ingressStrategy,
  networkPolicyStrategy,
];
