/**
 * Serves /openapi/v2 and /openapi/v3 from our generated schema definitions (core/openapi), and builds the
 * field validator from the same definitions. Documents are built once, lazily, on first use.
 */
import type { Strategy } from '../registry/types.ts';
import { buildOpenAPIv3 } from '../openapi/v3.ts';
import { buildOpenAPIv2Protobuf } from '../openapi/v2.ts';
import type { OpenAPIProvider } from './server.ts';
import { SchemaFieldValidator, type Definitions } from './field-validation.ts';
import { loadDefinitions } from '../openapi/definitions.ts';

export function createOpenAPIProvider(strategies: readonly Strategy[], gitVersion: string): OpenAPIProvider {
  const resources = strategies.map((s) => s.info);
  let v3: ReturnType<typeof buildOpenAPIv3> | undefined;
  let v2: Buffer | undefined;
  const getV3 = (): ReturnType<typeof buildOpenAPIv3> =>
    (v3 ??= buildOpenAPIv3(resources, loadDefinitions(), gitVersion));
  return {
    v2: () => (v2 ??= buildOpenAPIv2Protobuf(resources, loadDefinitions(), gitVersion)),
    v3Index: () => getV3().index,
    v3Doc: (path) => getV3().docs.get(path),
  };
}

export function createFieldValidator(): SchemaFieldValidator {
  return new SchemaFieldValidator(loadDefinitions() as Definitions);
}
