/**
 * Pure helpers of the RBAC page: how subjects read, what a matrix cell says on hover, the reason an
 * action is refused in "view as" mode, a subject from the matrix form, and server errors turned into
 * messages that say what to do.
 */
import type { AccessCell, BerthUser, ContractError, RbacSubject } from '../../electron/contract.ts';

/** `User alice`, `Group devs`, `ServiceAccount default/builder`. */
export function subjectText(s: RbacSubject): string {
  return s.kind === 'ServiceAccount' ? `ServiceAccount ${s.namespace}/${s.name}` : `${s.kind} ${s.name}`;
}

/** How a sentence names the subject: `alice`, `group devs`, `serviceaccount default/builder`. */
export function subjectShort(s: RbacSubject): string {
  if (s.kind === 'User') return s.name;
  if (s.kind === 'Group') return `group ${s.name}`;
  return `serviceaccount ${s.namespace}/${s.name}`;
}

export function sameSubject(a: RbacSubject | undefined, b: RbacSubject | undefined): boolean {
  if (!a || !b || a.kind !== b.kind || a.name !== b.name) return false;
  return a.kind !== 'ServiceAccount' || (b.kind === 'ServiceAccount' && a.namespace === b.namespace);
}

/** The hover text of a matrix cell: which binding(s) → role grant it, or why not. */
export function cellTitle(c: AccessCell, resource: string): string {
  if (c.allowed) {
    if (c.grants.length) return c.grants.map((g) => g.text).join('\n');
    return `${c.verb} ${resource}: allowed${c.reason ? ` (${c.reason})` : ' by another authorizer'}`;
  }
  return `${c.verb} ${resource}: denied${c.reason ? ` (${c.reason})` : ' — no binding grants it'}`;
}

/** A request the subject may not make, in words: "alice cannot create pods/exec in default". */
export function deniedText(
  s: RbacSubject,
  verb: string,
  resource: string,
  namespace: string | undefined,
  reason?: string,
): string {
  return `${subjectShort(s)} cannot ${verb} ${resource}${namespace ? ` in ${namespace}` : ''}${reason ? ` (${reason})` : ''}`;
}

export type SubjectKind = RbacSubject['kind'];

export interface SubjectForm {
  kind: SubjectKind;
  name: string;
  /** ServiceAccounts only. */
  namespace: string;
}

/**
 * The subject the matrix form describes, or the problem with it. A user of this cluster gets the
 * groups of its certificate (the API server sees them too).
 */
export function subjectFromForm(
  f: SubjectForm,
  users: readonly BerthUser[],
): { subject: RbacSubject } | { problem: string } {
  const name = f.name.trim();
  if (!name)
    return {
      problem: `Enter the ${f.kind === 'ServiceAccount' ? 'service account' : f.kind.toLowerCase()} name.`,
    };
  if (f.kind === 'ServiceAccount') {
    const namespace = f.namespace.trim();
    if (!namespace) return { problem: "Pick the service account's namespace." };
    return { subject: { kind: 'ServiceAccount', namespace, name } };
  }
  if (f.kind === 'Group') return { subject: { kind: 'Group', name } };
  const groups = users.find((u) => u.name === name && !u.revoked)?.groups ?? [];
  return { subject: { kind: 'User', name, ...(groups.length ? { groups } : {}) } };
}

export function formOf(s: RbacSubject): SubjectForm {
  return { kind: s.kind, name: s.name, namespace: s.kind === 'ServiceAccount' ? s.namespace : '' };
}

/** Comma- or space-separated groups, trimmed, without duplicates. */
export function parseGroups(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).filter(Boolean))];
}

function errorOf(e: unknown): ContractError {
  if (e && typeof e === 'object' && 'error' in e) {
    const inner = (e as { error: unknown }).error;
    if (inner && typeof inner === 'object' && typeof (inner as ContractError).message === 'string')
      return inner as ContractError;
  }
  return { message: e instanceof Error ? e.message : String(e) };
}

/**
 * A failed RBAC request (create, revoke, kubeconfig, matrix, view as) as a message that says what to
 * do. Messages that already say it pass through.
 */
export function actionableError(e: unknown): string {
  const err = errorOf(e);
  const m = err.message;
  if (/^not connected|connection to the Berth server lost/.test(m))
    return `${m}: wait until the connection (top right) is open again, then retry.`;
  if (/exists \(revoke it first/.test(m))
    return `${m.replace(/ \(revoke it first.*$/, '')}: revoke it first (Revoke in its row), then create it again.`;
  if (/users exist only in Berth clusters/.test(m))
    return `${m}: pick a Berth cluster in the Cluster menu (kubeconfig contexts have no users to manage here).`;
  if (/^no cluster in /.test(m))
    return `${m.replace(/ — start.*$/, '')}: start the cluster in Clusters first.`;
  if (err.code === 409 || err.reason === 'AlreadyExists')
    return `${m}. The user's certificate was issued; delete that binding (Bindings tab) or choose another role.`;
  if (err.code === 403 || err.reason === 'Forbidden')
    return `${m}. Your identity may not do this; if "view as" is on, leave it first.`;
  if (err.code === 404 || err.reason === 'NotFound')
    return `${m}. Refresh the list: it may have been removed.`;
  return m;
}

/** An RFC 3339 time as `2026-11-23 15:46 UTC` ('' when absent or unreadable). */
export function shortTime(iso: string | undefined): string {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isNaN(t) ? '' : `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** A user's state: revoked, expired (certificate past notAfter) or valid. */
export function userState(u: BerthUser, now: number): 'revoked' | 'expired' | 'valid' {
  if (u.revoked) return 'revoked';
  return Date.parse(u.notAfter) <= now ? 'expired' : 'valid';
}

/** Why an exec terminal did not open while viewing as a subject: a 403 says who may not do what. */
export function execErrorText(message: string, subject: RbacSubject | undefined, namespace: string): string {
  if (!subject || !/\b403\b|forbidden/i.test(message)) return message;
  return `${deniedText(subject, 'create', 'pods/exec', namespace)}: the API server refused (${message})`;
}
