/** core/v1 Secret (SetDefaults_Secret, ValidateSecret / ValidateSecretUpdate, printSecret). */
import type { KObject } from '../../api/object.ts';
import { type FieldError, fieldErr, immutable } from '../../api/field-errors.ts';
import { ALL_VERBS, type TableColumn } from '../types.ts';
import { age, ageColumn, nameColumn } from '../printers.ts';
import { configMapKeyErrors, type CoreStrategy } from './common.ts';
import { MAX_SECRET_SIZE, base64DecodedLength, validateImmutableData } from './configmaps.ts';

const strMap = (v: unknown): Record<string, string> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, string>) : {};

const base64Re = /^[A-Za-z0-9+/]*={0,2}$/;

/** Defaults and the v1 conversion: stringData is merged into data (base64) and dropped; type defaults to Opaque. */
export function defaultSecret(obj: KObject): void {
  const sd = obj['stringData'];
  if (sd !== undefined) {
    const data = { ...strMap(obj['data']) };
    for (const [k, v] of Object.entries(strMap(sd)))
      data[k] = Buffer.from(String(v), 'utf8').toString('base64');
    obj['data'] = data;
    delete obj['stringData'];
  }
  if (!obj['type']) obj['type'] = 'Opaque';
}

export function validateSecret(obj: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const data = strMap(obj['data']);
  let total = 0;
  for (const [k, v] of Object.entries(data)) {
    for (const m of configMapKeyErrors(k)) errs.push(fieldErr.invalid(`data[${k}]`, k, m));
    if (typeof v !== 'string' || !base64Re.test(v.replace(/\s/g, '')))
      errs.push(fieldErr.invalid(`data[${k}]`, '<secret contents redacted>', 'must be base64-encoded bytes'));
    else total += base64DecodedLength(v);
  }
  if (total > MAX_SECRET_SIZE) errs.push(fieldErr.tooLong('data', MAX_SECRET_SIZE));
  const type = String(obj['type'] ?? '');
  const ann = obj.metadata.annotations ?? {};
  const need = (key: string): void => {
    if (!(key in data)) errs.push(fieldErr.required(`data[${key}]`, ''));
  };
  switch (type) {
    case 'kubernetes.io/service-account-token':
      if (!ann['kubernetes.io/service-account.name'])
        errs.push(fieldErr.required('metadata.annotations[kubernetes.io/service-account.name]', ''));
      break;
    case 'kubernetes.io/dockercfg':
      need('.dockercfg');
      break;
    case 'kubernetes.io/dockerconfigjson':
      need('.dockerconfigjson');
      break;
    case 'kubernetes.io/basic-auth':
      if (!('username' in data) && !('password' in data)) {
        need('username');
        need('password');
      }
      break;
    case 'kubernetes.io/ssh-auth':
      need('ssh-privatekey');
      break;
    case 'kubernetes.io/tls':
      need('tls.crt');
      need('tls.key');
      break;
    default:
      break;
  }
  return errs;
}

const columns: readonly TableColumn[] = [
  nameColumn,
  {
    name: 'Type',
    type: 'string',
    description:
      'Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types',
  },
  {
    name: 'Data',
    type: 'integer',
    description:
      "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4",
  },
  ageColumn,
];

export const secretStrategy: CoreStrategy = {
  info: {
    group: '',
    version: 'v1',
    resource: 'secrets',
    singular: 'secret',
    kind: 'Secret',
    namespaced: true,
    verbs: ALL_VERBS,
  },
  defaults: defaultSecret,
  validate: validateSecret,
  validateUpdate(obj, old) {
    return [...immutable('type', old['type'], obj['type']), ...validateImmutableData(obj, old, ['data'])];
  },
  columns,
  row(obj, now) {
    return [
      obj.metadata.name ?? '',
      String(obj['type'] ?? ''),
      Object.keys(strMap(obj['data'])).length,
      age(obj.metadata.creationTimestamp, now),
    ];
  },
  fieldSelectors(obj) {
    return { type: String(obj['type'] ?? '') };
  },
};
