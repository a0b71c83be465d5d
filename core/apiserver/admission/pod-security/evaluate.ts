/**
 * Evaluating a pod against a level and version (k8s.io/pod-security-admission policy/registry.go and
 * checks.go): privileged allows everything; baseline runs the Baseline checks; restricted runs the
 * Baseline checks not superseded by a Restricted one, then the Restricted checks, each list in check-ID
 * byte order. A version picks each check's newest revision at or below it; "latest" (and any version
 * past the newest revision) is the newest revision. A check whose first revision is newer than the
 * version does not apply. The results aggregate into upstream's messages: the reasons joined by ", ",
 * and the detailed form `reason (detail), reason, …`.
 */
import type { PodSpec } from 'kubernetes-types/core/v1';
import type { Check, CheckPodFn, CheckResult, PodMeta, VersionedCheck } from './check-helpers.ts';
import { BASELINE_CHECKS } from './checks-baseline.ts';
import { RESTRICTED_CHECKS } from './checks-restricted.ts';
import type { LevelVersion } from './labels.ts';

const byId = (a: Check, b: Check): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const BASELINE = [...BASELINE_CHECKS].sort(byId);
const RESTRICTED = [...RESTRICTED_CHECKS].sort(byId);

/** The revision of `check` in force at policy version 1.<minor> (Infinity = latest), if any. */
function revisionAt(check: Check, minor: number): VersionedCheck | undefined {
  let found: VersionedCheck | undefined;
  for (const v of check.versions) if (v.minimumMinor <= minor) found = v;
  return found;
}

/** The check functions to run for a level and version, in evaluation order. */
export function checksFor(lv: LevelVersion): CheckPodFn[] {
  if (lv.level === 'privileged') return [];
  const minor = lv.version === 'latest' ? Infinity : lv.version;
  const revisions = (checks: readonly Check[]) =>
    checks.flatMap((c) => {
      const r = revisionAt(c, minor);
      return r ? [{ id: c.id, r }] : [];
    });
  const baseline = revisions(BASELINE);
  if (lv.level === 'baseline') return baseline.map((c) => c.r.checkPod);
  const restricted = revisions(RESTRICTED);
  const overridden = new Set(restricted.flatMap((c) => c.r.overrides ?? []));
  return [...baseline.filter((c) => !overridden.has(c.id)), ...restricted].map((c) => c.r.checkPod);
}

export interface AggregateResult {
  allowed: boolean;
  reasons: string[];
  /** Same length as reasons; '' when a check gave no detail. */
  details: string[];
}

export function evaluatePod(lv: LevelVersion, meta: PodMeta, spec: PodSpec): AggregateResult {
  const results: CheckResult[] = checksFor(lv).map((check) => check(meta, spec));
  const failed = results.filter((r) => !r.allowed);
  return {
    allowed: failed.length === 0,
    reasons: failed.map((r) => r.forbiddenReason || 'unknown forbidden reason'),
    details: failed.map((r) => r.forbiddenDetail ?? ''),
  };
}

/** `host ports, privileged` — used for the existing-pods warnings of a namespace. */
export const forbiddenReason = (a: AggregateResult): string => a.reasons.join(', ');

/** `hostPort (container "c" uses hostPort 80), privileged (…)` — used for one object. */
export const forbiddenDetail = (a: AggregateResult): string =>
  a.reasons.map((r, i) => (a.details[i] ? `${r} (${a.details[i]})` : r)).join(', ');
