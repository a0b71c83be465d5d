/** core/v1 ConfigMap (ValidateConfigMap / ValidateConfigMapUpdate, printConfigMap). */
import type { KObject } from '../../api/object.ts';
import { type FieldError, fieldErr } from '../../api/field-errors.ts';
import { ALL_VERBS, type TableColumn } from '../types.ts';
import { age, ageColumn, nameColumn } from '../printers.ts';
import { configMapKeyErrors, type CoreStrategy } from './common.ts';

/** MaxSecretSize, also the ConfigMap limit. */
export const MAX_SECRET_SIZE = 1024 * 1024;

const strMap = (v: unknown): Record<string, string> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, string>) : {};

export function base64DecodedLength(s: string): number {
  const clean = s.replace(/\s/g, '');
  const pad = clean.endsWith('==') ? 2 : clean.endsWith('=') ? 1 : 0;
  return Math.floor((clean.length * 3) / 4) - pad;
}

export function validateConfigMap(obj: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const data = strMap(obj['data']);
  const bin = strMap(obj['binaryData']);
  let total = 0;
  for (const [k, v] of Object.entries(data)) {
    for (const m of configMapKeyErrors(k)) errs.push(fieldErr.invalid(`data[${k}]`, k, m));
    if (k in bin) errs.push(fieldErr.invalid(`data[${k}]`, k, 'duplicate of key present in binaryData'));
    total += typeof v === 'string' ? Buffer.byteLength(v) : 0;
  }
  for (const [k, v] of Object.entries(bin)) {
    for (const m of configMapKeyErrors(k)) errs.push(fieldErr.invalid(`binaryData[${k}]`, k, m));
    if (k in data) errs.push(fieldErr.invalid(`binaryData[${k}]`, k, 'duplicate of key present in data'));
    total += typeof v === 'string' ? base64DecodedLength(v) : 0;
  }
  if (total > MAX_SECRET_SIZE) errs.push(fieldErr.tooLong('', MAX_SECRET_SIZE));
  return errs;
}

/** The `immutable` rule shared by ConfigMap and Secret updates. */
export function validateImmutableData(obj: KObject, old: KObject, fields: readonly string[]): FieldError[] {
  if (old['immutable'] !== true) return [];
  const errs: FieldError[] = [];
  const same = (a: unknown, b: unknown): boolean => {
    const norm = (x: unknown): string =>
      JSON.stringify(Object.entries(strMap(x)).sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0)));
    return norm(a) === norm(b);
  };
  for (const f of fields)
    if (!same(obj[f], old[f])) errs.push(fieldErr.forbidden(f, 'field is immutable when `immutable` is set'));
  if (obj['immutable'] !== true)
    errs.push(fieldErr.forbidden('immutable', 'field is immutable when `immutable` is set'));
  return errs;
}

const columns: readonly TableColumn[] = [
  nameColumn,
  {
    name: 'Data',
    type: 'integer',
    description:
      "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process.",
  },
  ageColumn,
];

export const configMapStrategy: CoreStrategy = {
  info: {
    group: '',
    version: 'v1',
    resource: 'configmaps',
    singular: 'configmap',
    kind: 'ConfigMap',
    namespaced: true,
    verbs: ALL_VERBS,
    shortNames: ['cm'],
  },
  validate: validateConfigMap,
  validateUpdate(obj, old) {
    return validateImmutableData(obj, old, ['data', 'binaryData']);
  },
  columns,
  row(obj, now) {
    const n = Object.keys(strMap(obj['data'])).length + Object.keys(strMap(obj['binaryData'])).length;
    return [obj.metadata.name ?? '', n, age(obj.metadata.creationTimestamp, now)];
  },
};
