/**
 * The Strategy serving one version of a custom resource, built from its CustomResourceDefinition:
 * scope, names, schema validation/defaulting (pruning happens at decode, see customResourceSchema),
 * status and scale subresources, additionalPrinterColumns, generation, and no strategic merge patch.
 */
import type { KObject } from '../api/object.ts';
import { StatusError } from '../api/status.ts';
import { age, nameColumn } from '../registry/printers.ts';
import {
  ALL_VERBS,
  type ScaleAccess,
  type Strategy,
  type TableCell,
  type TableColumn,
} from '../registry/types.ts';
import { applyDefaults } from './defaulting.ts';
import { readJSONPath, writeJSONPath } from './json-path.ts';
import { validateCustomResource } from './schema-validate.ts';
import type { CRDVersion, CustomResourceDefinition, JSONSchemaProps, PrinterColumn } from './types.ts';

const schemas = new WeakMap<Strategy, JSONSchemaProps>();

/** The openAPIV3Schema of a custom resource strategy (undefined for every other strategy). */
export function customResourceSchema(s: Strategy): JSONSchemaProps | undefined {
  return schemas.get(s);
}

const AGE_DESCRIPTION =
  'CreationTimestamp is a timestamp representing the server time when this object was created.';

function columnsOf(v: CRDVersion): PrinterColumn[] {
  const cols = v.additionalPrinterColumns ?? [];
  return cols.length
    ? cols
    : [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: AGE_DESCRIPTION }];
}

function tableType(t: string): TableColumn['type'] {
  return t === 'integer' || t === 'number' || t === 'boolean' || t === 'date' ? t : 'string';
}

/** One cell as kube-apiserver's CRD table convertor renders it (dates as ages, missing as null). */
function cell(obj: KObject, c: PrinterColumn, now: Date): TableCell {
  const v = readJSONPath(obj, c.jsonPath);
  if (v === undefined || v === null) return null;
  if (c.type === 'date') return typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? age(v, now) : null;
  if (c.type === 'integer') return typeof v === 'number' && Number.isInteger(v) ? v : null;
  if (c.type === 'number') return typeof v === 'number' ? v : null;
  if (c.type === 'boolean') return typeof v === 'boolean' ? v : null;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Field selector values of selectableFields (`spec.color` → its value; missing → ""). */
function selectableValues(obj: KObject, fields: readonly { jsonPath: string }[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fields) {
    const v = readJSONPath(obj, f.jsonPath);
    out[f.jsonPath.replace(/^\./, '')] =
      v === undefined || v === null || typeof v === 'object' ? '' : String(v);
  }
  return out;
}

function scaleAccess(paths: NonNullable<NonNullable<CRDVersion['subresources']>['scale']>): ScaleAccess {
  const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
  return {
    specReplicas: (o) => num(readJSONPath(o, paths.specReplicasPath)),
    setSpecReplicas: (o, n) => void writeJSONPath(o, paths.specReplicasPath, n),
    statusReplicas: (o) => num(readJSONPath(o, paths.statusReplicasPath)),
    selector: (o) => {
      const v = paths.labelSelectorPath ? readJSONPath(o, paths.labelSelectorPath) : undefined;
      return typeof v === 'string' ? v : '';
    },
  };
}

export interface CustomResourceOptions {
  /** The storage version's name when this version is served from another's storage. */
  storageVersion?: string;
  /** Whether the CRD is being deleted (creates are refused then). */
  terminating?: () => boolean;
}

/** The Strategy serving `version` of `crd` (the CRD must have accepted names). */
export function customResourceStrategy(
  crd: CustomResourceDefinition,
  version: CRDVersion,
  opts: CustomResourceOptions = {},
): Strategy {
  const names = crd.status?.acceptedNames ?? crd.spec.names;
  const group = crd.spec.group;
  const plural = names.plural ?? '';
  const kind = names.kind ?? '';
  const schema: JSONSchemaProps = version.schema?.openAPIV3Schema ?? {
    type: 'object',
    'x-kubernetes-preserve-unknown-fields': true,
  };
  const hasStatus = !!version.subresources?.status;
  const columns = columnsOf(version);
  const validate = (obj: KObject) => validateCustomResource(obj, schema);
  const storageVersion = opts.storageVersion;
  const strategy: Strategy = {
    info: {
      group,
      version: version.name,
      resource: plural,
      singular: names.singular ?? kind.toLowerCase(),
      kind,
      listKind: names.listKind ?? `${kind}List`,
      namespaced: crd.spec.scope === 'Namespaced',
      verbs: ALL_VERBS,
      ...(names.shortNames?.length ? { shortNames: names.shortNames } : {}),
      ...(names.categories?.length ? { categories: names.categories } : {}),
    },
    tracksGeneration: true,
    hasStatus,
    supportsStrategicMerge: false,
    defaults: (obj) => applyDefaults(obj, schema),
    prepareForCreate: (obj) => {
      if (opts.terminating?.())
        throw new StatusError(
          405,
          'MethodNotAllowed',
          'create not allowed while custom resource definition is terminating',
          { group, kind: plural },
        );
      if (hasStatus) delete obj['status'];
    },
    prepareForUpdate: (obj, old) => {
      // Without a status subresource a status change is a change of the object: bump generation.
      if (!hasStatus && JSON.stringify(obj['status']) !== JSON.stringify(old['status']))
        obj.metadata.generation = (old.metadata.generation ?? 0) + 1;
    },
    validate,
    validateStatusUpdate: (obj) => validate(obj),
    columns: [
      nameColumn,
      ...columns.map((c) => ({
        name: c.name,
        type: tableType(c.type),
        ...(c.format ? { format: c.format } : {}),
        ...(c.description ? { description: c.description } : {}),
        priority: c.priority ?? 0,
      })),
    ],
    row: (obj, now) => [obj.metadata.name ?? '', ...columns.map((c) => cell(obj, c, now))],
    ...(version.selectableFields?.length
      ? { fieldSelectors: (obj: KObject) => selectableValues(obj, version.selectableFields ?? []) }
      : {}),
    ...(version.subresources?.scale ? { scale: scaleAccess(version.subresources.scale) } : {}),
    ...(storageVersion && storageVersion !== version.name
      ? {
          storedAs: {
            group,
            resource: plural,
            toStorage: (o: KObject) => ({ ...o, apiVersion: `${group}/${storageVersion}` }),
            fromStorage: (o: KObject) => o,
          },
        }
      : {}),
  };
  schemas.set(strategy, schema);
  return strategy;
}
