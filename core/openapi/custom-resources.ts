/**
 * OpenAPI for custom resources: each Established CRD's served versions get a v3 group-version document
 * (paths with x-kubernetes-group-version-kind and fieldValidation, so kubectl leaves validation to the
 * server; and the openAPIV3Schema as a component with apiVersion/kind/metadata, for `kubectl explain`).
 * Wraps the built-in provider; documents are rebuilt lazily after the resource table changes.
 */
import type { OpenAPIProvider } from '../apiserver/server.ts';
import type { ResourceTable } from '../apiserver/resources.ts';
import { customResourceSchema } from '../apiextensions/custom-resource-strategy.ts';
import type { JSONSchemaProps } from '../apiextensions/types.ts';
import type { ResourceInfo } from '../registry/types.ts';
import { loadDefinitions, META, syntheticName, type Definitions, type Schema } from './definitions.ts';
import { buildOpenAPIv3, type OpenAPIv3Docs } from './v3.ts';

/** The definition of a custom resource kind: its schema plus the implicit type and object metadata. */
export function customResourceDefinition(info: ResourceInfo, schema: JSONSchemaProps): Schema {
  const { metadata: _metadata, ...props } = schema.properties ?? {};
  void _metadata;
  return {
    ...(schema as Schema),
    type: 'object',
    properties: {
      apiVersion: {
        description:
          'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values.',
        type: 'string',
      },
      kind: {
        description:
          'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase.',
        type: 'string',
      },
      metadata: { $ref: `#/definitions/${META}.ObjectMeta` },
      ...(props as Record<string, Schema>),
    },
    'x-kubernetes-group-version-kind': [{ group: info.group, version: info.version, kind: info.kind }],
  };
}

export function customResourceOpenAPI(
  base: OpenAPIProvider,
  table: ResourceTable,
  gitVersion: string,
): OpenAPIProvider {
  let docs: OpenAPIv3Docs | undefined;
  table.onChange(() => (docs = undefined));
  const current = (): OpenAPIv3Docs => {
    if (docs) return docs;
    const resources: ResourceInfo[] = [];
    const defs: Definitions = {};
    for (const s of table.all) {
      const schema = customResourceSchema(s.strategy);
      if (!schema) continue;
      const i = s.strategy.info;
      resources.push(i);
      defs[syntheticName(i)] = customResourceDefinition(i, schema);
    }
    docs = resources.length
      ? buildOpenAPIv3(resources, { ...loadDefinitions(), ...defs }, gitVersion)
      : { index: { paths: {} }, docs: new Map() };
    return docs;
  };
  return {
    v2: () => base.v2(),
    v3Index: () => {
      const b = base.v3Index() as { paths?: Record<string, unknown> };
      return { ...b, paths: { ...(b.paths ?? {}), ...current().index.paths } };
    },
    v3Doc: (path) => base.v3Doc(path) ?? current().docs.get(path),
  };
}
