/** metav1.LabelSelector validation (ValidateLabelSelector) and the selector ↔ template-labels check. */
import { type FieldError, fieldErr } from '../../api/field-errors.ts';
import { isPlainObject } from '../../api/object.ts';
import { validateLabels } from './meta.ts';
import { isQualifiedName, isValidLabelValue } from './names.ts';

interface Sel {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export function validateLabelSelector(sel: unknown, path: string): FieldError[] {
  if (sel === undefined || sel === null) return [];
  if (!isPlainObject(sel)) return [fieldErr.typeInvalid(path, sel, 'must be an object')];
  const s = sel as Sel;
  const errs = validateLabels(s.matchLabels, `${path}.matchLabels`);
  (s.matchExpressions ?? []).forEach((e, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    for (const m of isQualifiedName(e.key ?? '')) errs.push(fieldErr.invalid(`${p}.key`, e.key, m));
    switch (e.operator) {
      case 'In':
      case 'NotIn':
        if (!e.values?.length)
          errs.push(fieldErr.required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (e.values?.length)
          errs.push(
            fieldErr.forbidden(
              `${p}.values`,
              "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            ),
          );
        break;
      default:
        errs.push(fieldErr.invalid(`${p}.operator`, e.operator, 'not a valid selector operator'));
    }
    (e.values ?? []).forEach((v, j) => {
      for (const m of isValidLabelValue(v)) errs.push(fieldErr.invalid(`${p}.values[${j}]`, v, m));
    });
  });
  return errs;
}

/** Whether a label selector object selects the given labels. */
export function selectorMatches(sel: unknown, labels: Record<string, string> | undefined): boolean {
  if (!isPlainObject(sel)) return false;
  const s = sel as Sel;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(s.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of s.matchExpressions ?? []) {
    const has = k(l, e.key);
    const v = l[e.key];
    if (e.operator === 'In' && (!has || !(e.values ?? []).includes(v!))) return false;
    if (e.operator === 'NotIn' && has && (e.values ?? []).includes(v!)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}
function k(o: Record<string, string>, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, key);
}

/** Go's %v of a map[string]string, as Kubernetes prints it in the selector mismatch message. */
export function goMapString(m: Record<string, string> | undefined): string {
  const entries = Object.keys(m ?? {})
    .sort()
    .map((key) => `${JSON.stringify(key)}:${JSON.stringify(m![key])}`);
  return `map[string]string{${entries.join(', ')}}`;
}

/** Workload rule: a non-empty selector that selects the template's labels. */
export function validateSelectorMatchesTemplate(
  sel: unknown,
  templateLabels: Record<string, string> | undefined,
  path: string,
): FieldError[] {
  if (!isPlainObject(sel)) return [fieldErr.required(`${path}.selector`, '')];
  const s = sel as Sel;
  const empty = Object.keys(s.matchLabels ?? {}).length === 0 && (s.matchExpressions ?? []).length === 0;
  if (empty) return [fieldErr.invalid(`${path}.selector`, sel, 'empty selector is invalid for deployment')];
  if (!selectorMatches(sel, templateLabels))
    return [
      {
        ...fieldErr.invalid(
          `${path}.template.metadata.labels`,
          templateLabels ?? {},
          '`selector` does not match template `labels`',
        ),
        valueString: goMapString(templateLabels),
      },
    ];
  return [];
}
