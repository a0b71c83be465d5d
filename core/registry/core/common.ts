/** Helpers shared by the core/v1 strategies (validation wording from k8s.io/apimachinery and pkg/apis/core/validation). */
import type { KObject } from '../../api/object.ts';
import { type FieldError, fieldErr } from '../../api/field-errors.ts';
import type { RequestContext, Strategy } from '../types.ts';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName } from '../validation/names.ts';
import { quantityFormatError, tryParseQuantity } from './quantity.ts';

/**
 * A core strategy may also say what a write to its /status subresource does
 * (the real registries' <kind>StatusStrategy): `prepareForStatusUpdate` runs after the generic layer copied
 * everything but .status from the old object; `validateStatusUpdate` replaces validate/validateUpdate there.
 */
export interface CoreStrategy extends Strategy {
  prepareForStatusUpdate?(obj: KObject, old: KObject, ctx: RequestContext): void;
  validateStatusUpdate?(obj: KObject, old: KObject, ctx: RequestContext): FieldError[];
}

export const CONDITION_TRUE = 'True';

/** validation.RegexError exactly as Go prints it (note the ", " after every example). */
export function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`;
  let s = `${msg} (e.g. `;
  examples.forEach((e, i) => {
    if (i > 0) s += ' or ';
    s += `'${e}', `;
  });
  return `${s}regex used for validation is '${fmt}')`;
}

export const inclusiveRangeError = (lo: number, hi: number): string =>
  `must be between ${lo} and ${hi}, inclusive`;
export const isNegativeErrorMsg = 'must be greater than or equal to 0';

export function validateNonnegative(v: unknown, field: string): FieldError[] {
  return typeof v === 'number' && v < 0 ? [fieldErr.invalid(field, v, isNegativeErrorMsg)] : [];
}

export function isValidPortNum(p: unknown): boolean {
  return typeof p === 'number' && Number.isInteger(p) && p >= 1 && p <= 65535;
}

/** IsValidPortName: an IANA_SVC_NAME. */
export function portNameErrors(name: string): string[] {
  const errs: string[] = [];
  if (name.length > 15) errs.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(name))
    errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(name)) errs.push('must contain at least one letter (a-z)');
  if (name.includes('--')) errs.push('must not contain consecutive hyphens');
  if (name.startsWith('-') || name.endsWith('-')) errs.push('must not begin or end with a hyphen');
  return errs;
}

/** ValidatePortNumOrName for an IntOrString port. */
export function validatePortNumOrName(port: unknown, field: string): FieldError[] {
  if (typeof port === 'number') {
    return isValidPortNum(port) ? [] : [fieldErr.invalid(field, port, inclusiveRangeError(1, 65535))];
  }
  if (typeof port === 'string') {
    if (port === '') return [fieldErr.required(field, '')];
    return portNameErrors(port).map((m) => fieldErr.invalid(field, port, m));
  }
  return [fieldErr.required(field, '')];
}

export function dns1123LabelErrs(v: string, field: string): FieldError[] {
  return isDNS1123Label(v).map((m) => fieldErr.invalid(field, v, m));
}

export function dns1123SubdomainErrs(v: string, field: string): FieldError[] {
  return isDNS1123Subdomain(v).map((m) => fieldErr.invalid(field, v, m));
}

const configMapKeyRe = /^[-._a-zA-Z0-9]+$/;
/** IsConfigMapKey (also used for Secret keys and projection keys). */
export function configMapKeyErrors(key: string): string[] {
  const errs: string[] = [];
  if (key.length > 253) errs.push('must be no more than 253 characters');
  if (!configMapKeyRe.test(key))
    errs.push(
      regexError(
        "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
        '[-._a-zA-Z0-9]+',
        'key.name',
        'KEY_NAME',
        'key-name',
      ),
    );
  if (key === '.') errs.push("must not be '.'");
  else if (key === '..') errs.push("must not be '..'");
  else if (key.startsWith('..')) errs.push("must not start with '..'");
  return errs;
}

const envVarNameRe = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
export function envVarNameErrors(name: string): string[] {
  const errs: string[] = [];
  if (!envVarNameRe.test(name))
    errs.push(
      regexError(
        "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit",
        '[-._a-zA-Z][-._a-zA-Z0-9]*',
        'my.env-name',
        'MY_ENV.NAME',
        'MyEnvName1',
      ),
    );
  if (name === '.') errs.push("must not be '.'");
  else if (name === '..') errs.push("must not be '..'");
  else if (name.startsWith('..')) errs.push("must not start with '..'");
  return errs;
}

/** Quantity syntax check for a value found in a ResourceList. */
export function quantitySyntaxErrs(v: unknown, field: string): FieldError[] {
  if (typeof v === 'number') return [];
  if (typeof v !== 'string' || !tryParseQuantity(v)) return [fieldErr.invalid(field, v, quantityFormatError)];
  return [];
}

export function qualifiedNameErrs(v: string, field: string): FieldError[] {
  return isQualifiedName(v).map((m) => fieldErr.invalid(field, v, m));
}

export function asRecord(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** Keeps the old .spec on a status write (the generic layer already did; this also covers metadata rules). */
export function keepOldSpec(obj: KObject, old: KObject): void {
  if (old['spec'] === undefined) delete obj['spec'];
  else obj['spec'] = JSON.parse(JSON.stringify(old['spec'])) as unknown;
}

/** A Set of strings → sorted, as sets.List does in Go. */
export const sortedList = (xs: Iterable<string>): string[] => [...new Set(xs)].sort();
