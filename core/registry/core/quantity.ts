/**
 * Kubernetes resource.Quantity: parsing, validation and the canonical string form
 * (k8s.io/apimachinery/pkg/api/resource semantics, written from scratch).
 *
 * Values are kept as an exact bigint of nano-units (10^-9), rounded up (away from zero) like
 * Quantity parsing does, plus the format the quantity was written in (it decides the canonical suffix).
 */

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

export const quantityRegexp = '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$';
/** The error text Kubernetes gives for an unparseable quantity (ErrFormatWrong). */
export const quantityFormatError = `quantities must match the regular expression '${quantityRegexp}'`;

const decimalSuffixes: Record<string, number> = {
  n: -9,
  u: -6,
  m: -3,
  '': 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const binarySuffixes: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };

export interface ParsedQuantity {
  /** Exact value in nano-units, rounded up to the nano (away from zero). */
  nanos: bigint;
  format: QuantityFormat;
}

const NANO = 1_000_000_000n;

function pow10(n: number): bigint {
  return 10n ** BigInt(n);
}

/** Division rounding away from zero (inf.RoundUp). */
function divUp(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b === 0n ? q : a < 0n ? q - 1n : q + 1n;
}

/** Parses a quantity string; undefined when it is not a valid quantity. */
export function tryParseQuantity(input: string): ParsedQuantity | undefined {
  const s = input.trim();
  if (s !== input || s.length === 0) return undefined;
  const m = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(.*)$/.exec(s);
  if (!m) return undefined;
  const sign = m[1] === '-' ? -1n : 1n;
  const intPart = m[2] ?? '';
  const fracPart = m[3] ?? '';
  const suffix = m[4] ?? '';
  if (intPart === '' && fracPart === '') return undefined;
  if (!/^[0-9]*$/.test(fracPart)) return undefined;
  let format: QuantityFormat;
  let exp10 = 0;
  let exp2 = 0;
  if (suffix in decimalSuffixes) {
    format = 'DecimalSI';
    exp10 = decimalSuffixes[suffix]!;
  } else if (suffix in binarySuffixes) {
    format = 'BinarySI';
    exp2 = binarySuffixes[suffix]!;
  } else {
    const e = /^[eE]([+-]?[0-9]+)$/.exec(suffix);
    if (!e) return undefined;
    format = 'DecimalExponent';
    exp10 = Number(e[1]);
    if (!Number.isSafeInteger(exp10) || Math.abs(exp10) > 1000) return undefined;
  }
  // digits * 10^(exp10 - fracLen) * 2^exp2, expressed in nanos.
  const digits = BigInt((intPart || '0') + fracPart);
  const num = digits * 2n ** BigInt(exp2);
  const scale = exp10 - fracPart.length + 9; // power of ten to multiply by to get nanos
  const nanos = scale >= 0 ? num * pow10(scale) : divUp(num, pow10(-scale));
  return { nanos: sign * nanos, format };
}

export function isQuantity(s: string): boolean {
  return typeof s === 'string' && tryParseQuantity(s) !== undefined;
}

/** Parses a quantity (throws on bad syntax with Kubernetes' message). value is in base units, milli rounded up. */
export function parseQuantity(s: string): {
  value: number;
  milli: bigint;
  nanos: bigint;
  format: QuantityFormat;
} {
  const q = tryParseQuantity(s);
  if (!q) throw new Error(quantityFormatError);
  return {
    value: Number(q.nanos) / 1e9,
    milli: divUp(q.nanos, 1_000_000n),
    nanos: q.nanos,
    format: q.format,
  };
}

const decimalSuffixByExp: Record<number, string> = {
  [-9]: 'n',
  [-6]: 'u',
  [-3]: 'm',
  0: '',
  3: 'k',
  6: 'M',
  9: 'G',
  12: 'T',
  15: 'P',
  18: 'E',
};
const binarySuffixByExp = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

/** The canonical string of a quantity (Quantity.String()). */
export function formatNanos(nanos: bigint, format: QuantityFormat): string {
  if (nanos === 0n) return '0';
  const neg = nanos < 0n;
  const abs = neg ? -nanos : nanos;
  const sign = neg ? '-' : '';
  if (format === 'BinarySI' && abs >= 1024n * NANO && abs % NANO === 0n) {
    let v = abs / NANO;
    let i = 0;
    while (i < binarySuffixByExp.length - 1 && v % 1024n === 0n) {
      v /= 1024n;
      i++;
    }
    return `${sign}${v}${binarySuffixByExp[i]}`;
  }
  // Decimal: mantissa * 10^e with e a multiple of 3, as large as keeps the mantissa integral.
  let e = -9;
  let mant = abs;
  while (mant % 1000n === 0n && (format === 'DecimalExponent' || e < 18)) {
    mant /= 1000n;
    e += 3;
  }
  if (format === 'DecimalExponent') return `${sign}${mant}${e === 0 ? '' : `e${e}`}`;
  return `${sign}${mant}${decimalSuffixByExp[e] ?? ''}`;
}

/** Canonical form of a quantity string (e.g. "1000m" → "1", "1.5Gi" → "1536Mi", "0.5" → "500m"). */
export function formatQuantity(s: string | number): string {
  if (typeof s === 'number') return formatNanos(BigInt(Math.round(s * 1e9)), 'DecimalSI');
  const q = tryParseQuantity(s);
  if (!q) throw new Error(quantityFormatError);
  return formatNanos(q.nanos, q.format);
}

/** Compares two quantity strings (-1, 0, 1). Unparseable values count as 0. */
export function compareQuantities(a: string, b: string): number {
  const x = tryParseQuantity(a)?.nanos ?? 0n;
  const y = tryParseQuantity(b)?.nanos ?? 0n;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The canonical string of a quantity value found in an object, or "0" when absent. */
export function quantityString(v: unknown): string {
  if (typeof v === 'number') return formatQuantity(v);
  if (typeof v !== 'string') return '0';
  const q = tryParseQuantity(v);
  return q ? formatNanos(q.nanos, q.format) : v;
}
