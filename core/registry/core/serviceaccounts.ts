/** core/v1 ServiceAccount (ValidateServiceAccount, printServiceAccount). */
import type { ServiceAccount } from 'kubernetes-types/core/v1';
import type { KObject } from '../../api/object.ts';
import { type FieldError, fieldErr } from '../../api/field-errors.ts';
import { ALL_VERBS, type TableColumn } from '../types.ts';
import { age, ageColumn, nameColumn } from '../printers.ts';
import type { CoreStrategy } from './common.ts';

const asSA = (o: KObject): ServiceAccount => o as unknown as ServiceAccount;

const columns: readonly TableColumn[] = [
  nameColumn,
  {
    name: 'Secrets',
    type: 'string',
    description:
      'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use. Pods are only limited to this list if this service account has a "kubernetes.io/enforce-mountable-secrets" annotation set to "true". The "kubernetes.io/enforce-mountable-secrets" annotation is deprecated since v1.32. Prefer separate namespaces to isolate access to mounted secrets. This field should not be used to find auto-generated service account token secrets for use outside of pods. Instead, tokens can be requested directly using the TokenRequest API, or service account token secrets can be manually created. More info: https://kubernetes.io/docs/concepts/configuration/secret',
  },
  ageColumn,
];

export const serviceAccountStrategy: CoreStrategy = {
  info: {
    group: '',
    version: 'v1',
    resource: 'serviceaccounts',
    singular: 'serviceaccount',
    kind: 'ServiceAccount',
    namespaced: true,
    verbs: ALL_VERBS,
    shortNames: ['sa'],
  },
  extraSubresources: [
    { name: 'token', kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1', verbs: ['create'] },
  ],
  validate(obj) {
    const errs: FieldError[] = [];
    (asSA(obj).imagePullSecrets ?? []).forEach((s, i) => {
      if (!s.name) errs.push(fieldErr.required(`imagePullSecrets[${i}].name`, ''));
    });
    return errs;
  },
  columns,
  row(obj, now) {
    return [
      obj.metadata.name ?? '',
      (asSA(obj).secrets ?? []).length,
      age(obj.metadata.creationTimestamp, now),
    ];
  },
};
