/**
 * The PodSecurity admission plugin (k8s.io/pod-security-admission admission.go, as kube-apiserver runs
 * it with its default configuration: every mode privileged:latest unless the namespace labels say
 * otherwise, nothing exempt):
 * - pods, on create and on updates that change an image, a seccomp annotation or the containers: the
 *   enforce policy refuses with 403 `pods "x" is forbidden: violates PodSecurity "restricted:latest": …`;
 *   the warn policy adds the warning `would violate PodSecurity "baseline:latest": …` (not to a request
 *   already refused). Subresources that cannot change the pod spec (status, binding, eviction, …) are
 *   not evaluated;
 * - workload kinds with a pod template (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob,
 *   ReplicationController, PodTemplate): warn only, never enforced (their pods are checked when created);
 * - namespaces: invalid PodSecurity labels are refused (422 Invalid) on create, and on update when they
 *   changed; an update to a stricter enforce level warns about the existing pods that would violate it.
 * Audit: the request's audit event gets upstream's annotations — pod-security.kubernetes.io/enforce-policy
 * (the enforce level evaluated) and pod-security.kubernetes.io/audit-violations (what the audit level
 * would refuse).
 */
import { errors } from '../../../api/status.ts';
import type { KObject } from '../../../api/object.ts';
import { fieldErrorString } from '../../../api/field-errors.ts';
import type { RequestContext } from '../../../registry/types.ts';
import type { AdmissionPlugin, GenericRegistry } from '../../generic-registry.ts';
import type { Served } from '../../resources.ts';
import { type AggregateResult, evaluatePod, forbiddenDetail, forbiddenReason } from './evaluate.ts';
import {
  compareLevels,
  DEFAULT_POLICY,
  type LevelVersion,
  levelVersionString,
  type Policy,
  policyFromLabels,
  sameLevelVersion,
} from './labels.ts';
import {
  hasPodTemplate,
  isSignificantPodUpdate,
  podTemplateOf,
  type PodView,
  podViewOf,
} from './pod-spec.ts';

/** Pod subresources whose writes cannot change what PodSecurity checks. */
const IGNORED_POD_SUBRESOURCES = new Set([
  'exec',
  'attach',
  'binding',
  'eviction',
  'log',
  'portforward',
  'proxy',
  'status',
]);

/** Upstream's bound on the pods checked when a namespace's enforce level gets stricter. */
const MAX_PODS_TO_CHECK = 3000;

export interface PodSecurityOptions {
  /** Policy for modes without a namespace label (default privileged:latest for each). */
  defaults?: Policy;
  exemptions?: { usernames?: string[]; namespaces?: string[]; runtimeClasses?: string[] };
}

/** Audit annotations upstream's admission records. */
export const ENFORCED_POLICY_ANNOTATION = 'pod-security.kubernetes.io/enforce-policy';
export const AUDIT_VIOLATIONS_ANNOTATION = 'pod-security.kubernetes.io/audit-violations';

export function podSecurity(registry: GenericRegistry, opts: PodSecurityOptions = {}): AdmissionPlugin {
  const defaults = opts.defaults ?? DEFAULT_POLICY;
  const exempt = {
    users: new Set(opts.exemptions?.usernames ?? []),
    namespaces: new Set(opts.exemptions?.namespaces ?? []),
    runtimeClasses: new Set(opts.exemptions?.runtimeClasses ?? []),
  };
  const namespaceLabels = (ns: string): Record<string, string> | undefined => {
    const served = registry.table.lookup('', 'v1', 'namespaces');
    return served ? registry.tryGet(served, '', ns)?.metadata.labels : undefined;
  };
  const warn = (ctx: RequestContext, message: string): void => {
    ctx.warnings?.push(message);
  };

  /** Enforce (when asked) and warn evaluation of one pod or pod template. */
  function evaluate(
    view: PodView,
    policy: Policy,
    enforce: boolean,
    name: string,
    ctx: RequestContext,
  ): void {
    if (view.spec.runtimeClassName && exempt.runtimeClasses.has(view.spec.runtimeClassName)) return;
    const cache = new Map<string, AggregateResult>();
    const resultFor = (lv: LevelVersion): AggregateResult => {
      const key = levelVersionString(lv);
      let r = cache.get(key);
      if (!r) cache.set(key, (r = evaluatePod(lv, view.meta, view.spec)));
      return r;
    };
    const audit = ctx.auditAnnotations;
    const enforced = enforce ? resultFor(policy.enforce) : undefined;
    if (enforce && audit) audit[ENFORCED_POLICY_ANNOTATION] = levelVersionString(policy.enforce);
    if (audit) {
      const a = resultFor(policy.audit);
      if (!a.allowed)
        audit[AUDIT_VIOLATIONS_ANNOTATION] =
          `would violate PodSecurity "${levelVersionString(policy.audit)}": ${forbiddenDetail(a)}`;
    }
    if (enforced && !enforced.allowed)
      throw errors.forbidden(
        { group: '', resource: 'pods' },
        name,
        `violates PodSecurity "${levelVersionString(policy.enforce)}": ${forbiddenDetail(enforced)}`,
      );
    if (!ctx.warnings) return;
    const w = resultFor(policy.warn);
    if (!w.allowed)
      warn(ctx, `would violate PodSecurity "${levelVersionString(policy.warn)}": ${forbiddenDetail(w)}`);
  }

  function validatePod(
    op: 'CREATE' | 'UPDATE',
    obj: KObject,
    old: KObject | undefined,
    ctx: RequestContext,
  ): void {
    if (ctx.subresource && IGNORED_POD_SUBRESOURCES.has(ctx.subresource)) return;
    const ns = obj.metadata.namespace ?? '';
    if (exempt.namespaces.has(ns) || exempt.users.has(ctx.user.username)) return;
    const { policy, errors: labelErrors } = policyFromLabels(namespaceLabels(ns), defaults);
    const allPrivileged =
      policy.enforce.level === 'privileged' &&
      policy.warn.level === 'privileged' &&
      policy.audit.level === 'privileged';
    if (!labelErrors.length && allPrivileged) return;
    const view = podViewOf(obj);
    if (op === 'UPDATE' && old && !isSignificantPodUpdate(view, podViewOf(old))) return;
    evaluate(view, policy, true, obj.metadata.name ?? '', ctx);
  }

  function validateTemplate(s: Served, obj: KObject, ctx: RequestContext): void {
    // Templates are only warned about: nothing to do for in-process writers (controllers), who read none.
    if (ctx.subresource || !ctx.warnings) return;
    const ns = obj.metadata.namespace ?? '';
    if (exempt.namespaces.has(ns) || exempt.users.has(ctx.user.username)) return;
    const { policy, errors: labelErrors } = policyFromLabels(namespaceLabels(ns), defaults);
    if (!labelErrors.length && policy.warn.level === 'privileged' && policy.audit.level === 'privileged')
      return;
    const view = podTemplateOf(s.strategy.info.group, s.strategy.info.resource, obj);
    if (view) evaluate(view, policy, false, obj.metadata.name ?? '', ctx);
  }

  /** Warnings about the existing pods of `ns` under a new enforce level. */
  function existingPodWarnings(ns: string, enforce: LevelVersion): string[] {
    const served = registry.table.lookup('', 'v1', 'pods');
    const all = served ? registry.list(served, ns, {}).items : [];
    const pods = all.slice(0, MAX_PODS_TO_CHECK);
    const byReason = new Map<string, { first: string; count: number }>();
    for (const pod of pods) {
      const view = podViewOf(pod);
      if (view.spec.runtimeClassName && exempt.runtimeClasses.has(view.spec.runtimeClassName)) continue;
      const r = evaluatePod(enforce, view.meta, view.spec);
      if (r.allowed) continue;
      const reason = forbiddenReason(r);
      const name = pod.metadata.name ?? '';
      const seen = byReason.get(reason);
      if (!seen) byReason.set(reason, { first: name, count: 1 });
      else {
        seen.count++;
        if (name < seen.first) seen.first = name;
      }
    }
    const out: string[] = [];
    if (pods.length < all.length)
      out.push(
        `new PodSecurity enforce level only checked against the first ${pods.length} of ${all.length} existing pods`,
      );
    if (byReason.size)
      out.push(
        `existing pods in namespace "${ns}" violate the new PodSecurity enforce level "${levelVersionString(enforce)}"`,
      );
    const perReason = [...byReason].map(([reason, { first, count }]) => {
      const who =
        count === 1 ? first : `${first} (and ${count - 1} other ${count - 1 === 1 ? 'pod' : 'pods'})`;
      return `${who}: ${reason}`;
    });
    return [...out, ...perReason.sort()];
  }

  function validateNamespace(
    op: 'CREATE' | 'UPDATE',
    obj: KObject,
    old: KObject | undefined,
    ctx: RequestContext,
  ): void {
    if (ctx.subresource) return;
    const name = obj.metadata.name ?? '';
    const next = policyFromLabels(obj.metadata.labels, defaults);
    const invalid = () => errors.invalid('', 'Namespace', name, next.errors);
    if (op === 'CREATE' || !old) {
      if (next.errors.length) throw invalid();
      return;
    }
    const prev = policyFromLabels(old.metadata.labels, defaults);
    const text = (errs: typeof next.errors): string => errs.map(fieldErrorString).join(', ');
    if (next.errors.length && (!prev.errors.length || text(next.errors) !== text(prev.errors)))
      throw invalid();
    const e = next.policy.enforce;
    const was = prev.policy.enforce;
    if (sameLevelVersion(e, was) || e.level === 'privileged') return;
    if (e.version === was.version && compareLevels(e.level, was.level) < 1) return;
    if (exempt.namespaces.has(name) || !ctx.warnings) return;
    for (const w of existingPodWarnings(name, e)) warn(ctx, w);
  }

  return {
    name: 'PodSecurity',
    validate(op, s, obj, old, ctx) {
      if (op === 'DELETE') return;
      const { group, resource } = s.strategy.info;
      if (group === '' && resource === 'namespaces') validateNamespace(op, obj, old, ctx);
      else if (group === '' && resource === 'pods') validatePod(op, obj, old, ctx);
      else if (hasPodTemplate(group, resource)) validateTemplate(s, obj, ctx);
    },
  };
}
