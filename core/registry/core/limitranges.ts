/** core/v1 LimitRange (SetDefaults_LimitRangeItem, ValidateLimitRange, printLimitRange). */
import type { LimitRange, LimitRangeItem } from 'kubernetes-types/core/v1';
import type { KObject } from '../../api/object.ts';
import { type FieldError, fieldErr } from '../../api/field-errors.ts';
import { ALL_VERBS, type TableColumn } from '../types.ts';
import { ageColumn, nameColumn } from '../printers.ts';
import type { CoreStrategy } from './common.ts';
import { validateQuantityValue } from './pod-spec.ts';
import { compareQuantities, quantityString, tryParseQuantity } from './quantity.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Item = Mutable<LimitRangeItem>;
const items = (o: KObject): Item[] => ((o as unknown as LimitRange).spec?.limits ?? []) as Item[];

export function defaultLimitRangeItem(it: Item): void {
  if (it.type !== 'Container') return;
  const def: Record<string, string> = { ...((it.default ?? {}) as Record<string, string>) };
  const req: Record<string, string> = { ...((it.defaultRequest ?? {}) as Record<string, string>) };
  for (const [k, v] of Object.entries(it.max ?? {})) if (!(k in def)) def[k] = v as string;
  for (const [k, v] of Object.entries(def)) if (!(k in req)) req[k] = v;
  for (const [k, v] of Object.entries(it.min ?? {})) if (!(k in req)) req[k] = v as string;
  if (Object.keys(def).length) it.default = def;
  if (Object.keys(req).length) it.defaultRequest = req;
}

const limitTypes = ['Container', 'PersistentVolumeClaim', 'Pod'];

export function validateLimitRange(obj: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const seenTypes = new Set<string>();
  items(obj).forEach((it, i) => {
    const p = `spec.limits[${i}]`;
    const type = it.type ?? '';
    if (!type) errs.push(fieldErr.required(`${p}.type`, ''));
    else if (!limitTypes.includes(type) && !type.includes('/'))
      errs.push(fieldErr.notSupported(`${p}.type`, type, limitTypes));
    if (seenTypes.has(type)) errs.push(fieldErr.duplicate(`${p}.type`, type));
    seenTypes.add(type);
    const maps: Record<string, Record<string, unknown>> = {
      max: (it.max ?? {}) as Record<string, unknown>,
      min: (it.min ?? {}) as Record<string, unknown>,
      default: (it.default ?? {}) as Record<string, unknown>,
      defaultRequest: (it.defaultRequest ?? {}) as Record<string, unknown>,
      maxLimitRequestRatio: (it.maxLimitRequestRatio ?? {}) as Record<string, unknown>,
    };
    let ok = true;
    for (const [f, m] of Object.entries(maps))
      for (const [k, v] of Object.entries(m)) {
        const e = validateQuantityValue(k, v, `${p}.${f}[${k}]`);
        if (e.length) ok = false;
        errs.push(...e);
      }
    if (type === 'Pod') {
      if (Object.keys(maps['default']!).length)
        errs.push(fieldErr.forbidden(`${p}.default`, "may not be specified when `type` is 'Pod'"));
      if (Object.keys(maps['defaultRequest']!).length)
        errs.push(fieldErr.forbidden(`${p}.defaultRequest`, "may not be specified when `type` is 'Pod'"));
    }
    if (!ok) return;
    const keys = new Set(Object.values(maps).flatMap((m) => Object.keys(m)));
    const get = (f: string, k: string): string | undefined => {
      const v = maps[f]![k];
      return v === undefined ? undefined : String(v);
    };
    for (const k of keys) {
      const min = get('min', k);
      const max = get('max', k);
      const def = get('default', k);
      const defReq = get('defaultRequest', k);
      const ratio = get('maxLimitRequestRatio', k);
      const s = (q: string): string => quantityString(q);
      if (min && max && compareQuantities(min, max) > 0)
        errs.push(
          fieldErr.invalid(
            `${p}.min[${k}]`,
            s(min),
            `min value ${s(min)} is greater than max value ${s(max)}`,
          ),
        );
      if (defReq && min && compareQuantities(min, defReq) > 0)
        errs.push(
          fieldErr.invalid(
            `${p}.defaultRequest[${k}]`,
            s(defReq),
            `min value ${s(min)} is greater than default request value ${s(defReq)}`,
          ),
        );
      if (defReq && max && compareQuantities(defReq, max) > 0)
        errs.push(
          fieldErr.invalid(
            `${p}.defaultRequest[${k}]`,
            s(defReq),
            `default request value ${s(defReq)} is greater than max value ${s(max)}`,
          ),
        );
      if (defReq && def && compareQuantities(defReq, def) > 0)
        errs.push(
          fieldErr.invalid(
            `${p}.defaultRequest[${k}]`,
            s(defReq),
            `default request value ${s(defReq)} is greater than default limit value ${s(def)}`,
          ),
        );
      if (def && min && compareQuantities(min, def) > 0)
        errs.push(
          fieldErr.invalid(
            `${p}.default[${k}]`,
            s(min),
            `min value ${s(min)} is greater than default value ${s(def)}`,
          ),
        );
      if (def && max && compareQuantities(def, max) > 0)
        errs.push(
          fieldErr.invalid(
            `${p}.default[${k}]`,
            s(max),
            `default value ${s(def)} is greater than max value ${s(max)}`,
          ),
        );
      if (ratio) {
        const r = tryParseQuantity(ratio)?.nanos ?? 0n;
        if (r < 1_000_000_000n)
          errs.push(
            fieldErr.invalid(`${p}.maxLimitRequestRatio[${k}]`, s(ratio), `ratio ${s(ratio)} is less than 1`),
          );
        if (max && min) {
          const mx = tryParseQuantity(max)?.nanos ?? 0n;
          const mn = tryParseQuantity(min)?.nanos ?? 0n;
          if (mn > 0n && r > 0n && (mx * 1_000_000_000n) / mn < r)
            errs.push(
              fieldErr.invalid(
                `${p}.maxLimitRequestRatio[${k}]`,
                s(ratio),
                `ratio ${s(ratio)} is greater than max/min = ${Number((mx * 1000n) / mn) / 1000}`,
              ),
            );
        }
      }
    }
  });
  return errs;
}

const columns: readonly TableColumn[] = [
  nameColumn,
  { name: 'Created At', type: 'date', description: ageColumn.description },
];

export const limitRangeStrategy: CoreStrategy = {
  info: {
    group: '',
    version: 'v1',
    resource: 'limitranges',
    singular: 'limitrange',
    kind: 'LimitRange',
    namespaced: true,
    verbs: ALL_VERBS,
    shortNames: ['limits'],
  },
  defaults(obj) {
    for (const it of items(obj)) defaultLimitRangeItem(it);
  },
  validate: validateLimitRange,
  columns,
  row(obj) {
    return [obj.metadata.name ?? '', obj.metadata.creationTimestamp ?? ''];
  },
};
