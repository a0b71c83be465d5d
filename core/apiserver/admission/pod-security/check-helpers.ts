/**
 * What every Pod Security Standards check shares: the result shape (k8s.io/pod-security-admission
 * policy.CheckResult), the check registration shape (a check has an ID, a level and one or more
 * versions, each with the first policy version it applies to), the container walk (init containers,
 * then containers, then ephemeral containers, as upstream visits them) and the message helpers
 * (`"a", "b"` quoting and singular/plural picking) the reason/detail strings are built with.
 */
import type { Container, PodSpec } from 'kubernetes-types/core/v1';
import type { ObjectMeta } from 'kubernetes-types/meta/v1';

export type PodMeta = Pick<ObjectMeta, 'annotations' | 'name'>;

export interface CheckResult {
  allowed: boolean;
  /** Short reason, always shown (e.g. "host namespaces"). */
  forbiddenReason?: string;
  /** Specific values, shown in parentheses after the reason when checking one object. */
  forbiddenDetail?: string;
}

export type CheckPodFn = (meta: PodMeta, spec: PodSpec) => CheckResult;

export interface VersionedCheck {
  /** The first policy version (1.<minor>) this revision of the check applies to. */
  minimumMinor: number;
  checkPod: CheckPodFn;
  /** Baseline check IDs this restricted check supersedes at the restricted level. */
  overrides?: readonly string[];
}

export interface Check {
  id: string;
  level: 'baseline' | 'restricted';
  /** Ordered by strictly increasing minimumMinor. */
  versions: readonly VersionedCheck[];
}

export const ALLOWED: CheckResult = { allowed: true };

export const forbidden = (reason: string, detail: string): CheckResult => ({
  allowed: false,
  forbiddenReason: reason,
  forbiddenDetail: detail,
});

/** `"a", "b"` — upstream's joinQuote. */
export function joinQuote(items: readonly string[]): string {
  return items.length ? `"${items.join('", "')}"` : '';
}

export const pluralize = (singular: string, plural: string, n: number): string =>
  n === 1 ? singular : plural;

/** `container "a"` / `containers "a", "b"`. */
export const containersPhrase = (names: readonly string[]): string =>
  `${pluralize('container', 'containers', names.length)} ${joinQuote(names)}`;

/** Byte-order sorted unique values (Go's sets.String.List()). */
export const sortedSet = (values: Iterable<string>): string[] =>
  [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/** Init containers, containers, then ephemeral containers. */
export function allContainers(spec: PodSpec): Container[] {
  return [
    ...(spec.initContainers ?? []),
    ...(spec.containers ?? []),
    ...((spec.ephemeralContainers ?? []) as Container[]),
  ];
}

/** Windows pods (spec.os.name=windows) are exempt from some restricted checks from policy 1.25 on. */
export const isWindowsPod = (spec: PodSpec): boolean => spec.os?.name === 'windows';
