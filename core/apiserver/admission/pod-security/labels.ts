/**
 * The Pod Security policy of a namespace, read from its labels (k8s.io/pod-security-admission api):
 * pod-security.kubernetes.io/<mode>[-version] for the modes enforce, audit and warn. Levels are
 * privileged, baseline and restricted; versions are "latest" or "v1.<minor>". A mode without a label
 * takes the configured default (privileged:latest for all three, as kube-apiserver's default
 * PodSecurity configuration; warn and audit do not follow enforce). An invalid enforce level evaluates
 * as restricted; an invalid warn or audit level fails open (privileged); an invalid version is latest.
 */
import { type FieldError, fieldErr } from '../../../api/field-errors.ts';

export type Level = 'privileged' | 'baseline' | 'restricted';
export const LEVELS: readonly Level[] = ['privileged', 'baseline', 'restricted'];

/** A policy version: the minor of v1.<minor>, or 'latest'. */
export type Version = number | 'latest';

export interface LevelVersion {
  level: Level;
  version: Version;
}

export interface Policy {
  enforce: LevelVersion;
  audit: LevelVersion;
  warn: LevelVersion;
}

export type Mode = keyof Policy;
export const MODES: readonly Mode[] = ['enforce', 'audit', 'warn'];

export const LABEL_PREFIX = 'pod-security.kubernetes.io/';
export const levelLabel = (mode: Mode): string => `${LABEL_PREFIX}${mode}`;
export const versionLabel = (mode: Mode): string => `${LABEL_PREFIX}${mode}-version`;

const PRIVILEGED_LATEST: LevelVersion = { level: 'privileged', version: 'latest' };
export const DEFAULT_POLICY: Policy = {
  enforce: PRIVILEGED_LATEST,
  audit: PRIVILEGED_LATEST,
  warn: PRIVILEGED_LATEST,
};

export const versionString = (v: Version): string => (v === 'latest' ? 'latest' : `v1.${v}`);
/** `restricted:latest`, `baseline:v1.27`. */
export const levelVersionString = (lv: LevelVersion): string => `${lv.level}:${versionString(lv.version)}`;
export const sameLevelVersion = (a: LevelVersion, b: LevelVersion): boolean =>
  a.level === b.level && a.version === b.version;

const isLevel = (s: string): s is Level => (LEVELS as readonly string[]).includes(s);

function parseVersion(s: string): Version | undefined {
  if (s === 'latest') return 'latest';
  const m = /^v1\.(0|[1-9][0-9]*)$/.exec(s);
  return m ? Number(m[1]) : undefined;
}

/** -1, 0 or 1 as `a` is less strict than, as strict as, or stricter than `b`. */
export const compareLevels = (a: Level, b: Level): number => Math.sign(LEVELS.indexOf(a) - LEVELS.indexOf(b));

/** The policy to evaluate for a namespace's labels; `errors` lists the invalid labels (always a usable policy). */
export function policyFromLabels(
  labels: Readonly<Record<string, string>> | undefined,
  defaults: Policy = DEFAULT_POLICY,
): { policy: Policy; errors: FieldError[] } {
  const policy: Policy = {
    enforce: { ...defaults.enforce },
    audit: { ...defaults.audit },
    warn: { ...defaults.warn },
  };
  const errors: FieldError[] = [];
  const invalid = (label: string, value: string, detail: string): void => {
    errors.push(fieldErr.invalid(`metadata.labels[${label}]`, value, detail));
  };
  for (const mode of MODES) {
    const level = labels?.[levelLabel(mode)];
    if (level !== undefined) {
      if (isLevel(level)) policy[mode].level = level;
      else {
        // Enforce fails closed, warn and audit fail open.
        policy[mode].level = mode === 'enforce' ? 'restricted' : 'privileged';
        invalid(levelLabel(mode), level, `must be one of ${LEVELS.join(', ')}`);
      }
    }
    const version = labels?.[versionLabel(mode)];
    if (version !== undefined) {
      const v = parseVersion(version);
      policy[mode].version = v ?? 'latest';
      if (v === undefined) invalid(versionLabel(mode), version, 'must be "latest" or "v1.x"');
    }
  }
  return { policy, errors };
}
