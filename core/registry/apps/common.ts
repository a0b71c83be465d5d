/** Validation helpers shared by the apps/v1 and batch/v1 strategies. */
import { type FieldError, fieldErr } from '../../api/field-errors.ts';

export function validateNonNegative(v: unknown, field: string): FieldError[] {
  if (v === undefined || v === null) return [];
  if (typeof v !== 'number' || !Number.isInteger(v))
    return [fieldErr.invalid(field, v, 'must be an integer')];
  return v < 0 ? [fieldErr.invalid(field, v, 'must be greater than or equal to 0')] : [];
}

/** IntOrString that must be a non-negative int or a percentage "N%" (≤ 100% for maxUnavailable is checked by callers). */
export function validateIntOrPercent(v: unknown, field: string): FieldError[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'number') return validateNonNegative(v, field);
  if (typeof v === 'string') {
    const m = /^(\d+)%$/.exec(v);
    if (!m)
      return [
        fieldErr.invalid(
          field,
          v,
          "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
        ),
      ];
    if (Number(m[1]) > 100 && field.endsWith('maxUnavailable'))
      return [fieldErr.invalid(field, v, 'must not be greater than 100%')];
    return [];
  }
  return [fieldErr.invalid(field, v, "must be an integer or percentage (e.g '5%')")];
}

export function isZeroIntOrPercent(v: unknown): boolean {
  return v === 0 || v === '0%' || v === '0';
}
