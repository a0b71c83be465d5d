/**
 * API discovery documents: legacy (/api, /apis, /api/v1, /apis/<g>, /apis/<g>/<v>) and aggregated
 * (apidiscovery.k8s.io v2 and v2beta1, chosen from the Accept header by the caller).
 */
import type { ResourceTable, Served } from './resources.ts';
import type { Verb } from '../registry/types.ts';

interface SubresourceEntry {
  name: string;
  kind: string;
  group?: string;
  version?: string;
  verbs: readonly Verb[];
}

/** Every subresource a served resource has, in discovery order. */
export function subresourcesOf(s: Served): SubresourceEntry[] {
  const st = s.strategy;
  const out: SubresourceEntry[] = [];
  const extra = st.extraSubresources ?? [];
  if (st.hasStatus && !extra.some((e) => e.name === 'status'))
    out.push({ name: 'status', kind: st.info.kind, verbs: ['get', 'patch', 'update'] });
  if (st.scale && !extra.some((e) => e.name === 'scale'))
    out.push({
      name: 'scale',
      kind: 'Scale',
      group: 'autoscaling',
      version: 'v1',
      verbs: ['get', 'patch', 'update'],
    });
  out.push(...extra);
  return out;
}

export function apiVersions(serverAddress: string): object {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupEntry(table: ResourceTable, group: string): object {
  const versions = table.groups.get(group) ?? [];
  const vs = versions.map((v) => ({ groupVersion: `${group}/${v}`, version: v }));
  return { name: group, versions: vs, preferredVersion: vs[0] };
}

export function apiGroupList(table: ResourceTable): object {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...table.groups.keys()].filter((g) => g !== '').map((g) => groupEntry(table, g)),
  };
}

export function apiGroup(table: ResourceTable, group: string): object | undefined {
  if (!table.groups.has(group) || group === '') return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(table, group) };
}

export function apiResourceList(table: ResourceTable, group: string, version: string): object | undefined {
  if (!table.hasGroupVersion(group, version)) return undefined;
  const resources: object[] = [];
  for (const s of table.inGroupVersion(group, version)) {
    const i = s.strategy.info;
    // The main resource first: client-node takes the first entry whose kind matches.
    resources.push({
      name: i.resource,
      singularName: i.singular,
      namespaced: i.namespaced,
      kind: i.kind,
      verbs: i.verbs,
      ...(i.shortNames?.length ? { shortNames: i.shortNames } : {}),
      ...(i.categories?.length ? { categories: i.categories } : {}),
    });
    for (const sub of subresourcesOf(s)) {
      resources.push({
        name: `${i.resource}/${sub.name}`,
        singularName: '',
        namespaced: i.namespaced,
        ...(sub.group !== undefined ? { group: sub.group } : {}),
        ...(sub.version !== undefined ? { version: sub.version } : {}),
        kind: sub.kind,
        verbs: sub.verbs,
      });
    }
  }
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources,
  };
}

function aggregatedGroup(table: ResourceTable, group: string): object {
  const versions = (table.groups.get(group) ?? []).map((version) => ({
    version,
    freshness: 'Current',
    resources: table.inGroupVersion(group, version).map((s) => {
      const i = s.strategy.info;
      return {
        resource: i.resource,
        responseKind: { group: i.group, version: i.version, kind: i.kind },
        scope: i.namespaced ? 'Namespaced' : 'Cluster',
        singularResource: i.singular,
        verbs: i.verbs,
        ...(i.shortNames?.length ? { shortNames: i.shortNames } : {}),
        ...(i.categories?.length ? { categories: i.categories } : {}),
        ...(subresourcesOf(s).length
          ? {
              subresources: subresourcesOf(s).map((sub) => ({
                subresource: sub.name,
                responseKind: {
                  group: sub.group ?? i.group,
                  version: sub.version ?? i.version,
                  kind: sub.kind,
                },
                verbs: sub.verbs,
              })),
            }
          : {}),
      };
    }),
  }));
  return { metadata: { name: group, creationTimestamp: null }, versions };
}

/** /api (core only) or /apis (every other group) as an APIGroupDiscoveryList. */
export function aggregatedDiscovery(
  table: ResourceTable,
  which: 'api' | 'apis',
  version: 'v2' | 'v2beta1',
): object {
  const groups = which === 'api' ? [''] : [...table.groups.keys()].filter((g) => g !== '');
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: `apidiscovery.k8s.io/${version}`,
    metadata: {},
    items: groups.map((g) => aggregatedGroup(table, g)),
  };
}

export function aggregatedContentType(version: 'v2' | 'v2beta1'): string {
  return `application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList`;
}
