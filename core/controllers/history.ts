/**
 * ControllerRevision history shared by the DaemonSet and StatefulSet controllers
 * (pkg/controller/history and the controllers' getPatch/constructHistory/truncateHistory semantics):
 * - a revision's data is a strategic merge patch replacing spec.template
 *   (`{"spec":{"template":{…,"$patch":"replace"}}}`), which `kubectl rollout undo` applies as is;
 * - revisions are named `<owner>-<hash>`, labelled with the owner's template labels plus
 *   controller-revision-hash, controlled by the owner (controller + blockOwnerDeletion), and carry the
 *   owner's annotations (kubernetes.io/change-cause shows in `kubectl rollout history`);
 * - a name collision with a different revision bumps status.collisionCount, which changes the hash.
 */
import { deepCopy, type KObject } from '../api/object.ts';
import { StatusError } from '../api/status.ts';
import type { LabelSelector } from '../apiserver/label-selector.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';
import { controllerRef, type SharedInformer } from '../client/informer.ts';
import { claimObjects, ownerRefFor, type PodTemplate } from './replicaset.ts';

export const CONTROLLER_REVISIONS: ResourceRef = {
  group: 'apps',
  version: 'v1',
  resource: 'controllerrevisions',
};

/** The label on revisions (and DaemonSet/StatefulSet pods): apps.ControllerRevisionHashLabelKey. */
export const CONTROLLER_REVISION_HASH = 'controller-revision-hash';

const isNotFound = (e: unknown): boolean => e instanceof StatusError && e.code === 404;
const isAlreadyExists = (e: unknown): boolean => e instanceof StatusError && e.code === 409;

/** A stable JSON rendering with sorted keys (what the hash and equality are computed over). */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

/** rand.SafeEncodeString. */
export function safeEncode(s: string): string {
  return [...s].map((c) => SAFE[c.charCodeAt(0) % SAFE.length]).join('');
}

/** FNV-1 (32 bit), as Go's hash/fnv New32. */
function fnv32(bytes: Uint8Array, h = 0x811c9dc5): number {
  for (const b of bytes) {
    h = Math.imul(h, 0x01000193) >>> 0;
    h = (h ^ b) >>> 0;
  }
  return h >>> 0;
}

/**
 * history.HashControllerRevision: FNV-1 32 over the revision data, then the collision count in decimal,
 * rendered with SafeEncodeString.
 */
export function hashRevisionData(data: unknown, collisionCount?: number): string {
  const enc = new TextEncoder();
  let h = fnv32(enc.encode(canonicalJson(data)));
  if (collisionCount !== undefined) h = fnv32(enc.encode(String(collisionCount)), h);
  return safeEncode(String(h));
}

/** history.ControllerRevisionName: the prefix is cut to 223 characters. */
export function revisionName(prefix: string, hash: string): string {
  return `${prefix.length > 223 ? prefix.slice(0, 223) : prefix}-${hash}`;
}

/** getPatch: the owner's template as a patch that replaces spec.template. */
export function templatePatch(owner: KObject): Record<string, unknown> {
  const tmpl = deepCopy(((owner['spec'] ?? {}) as { template?: PodTemplate }).template ?? {});
  return { spec: { template: { ...tmpl, $patch: 'replace' } } };
}

/** The pod template a revision records (ApplyRevision's effect on spec.template). */
export function templateOfRevision(rev: KObject): PodTemplate {
  const data = (rev['data'] ?? {}) as { spec?: { template?: Record<string, unknown> } };
  const t = deepCopy(data.spec?.template ?? {});
  delete t['$patch'];
  return t as PodTemplate;
}

export const revisionNumber = (r: KObject): number => (typeof r['revision'] === 'number' ? r['revision'] : 0);

/** Whether two revisions hold the same data (history.FindEqualRevisions). */
export function equalRevisionData(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

export function sortRevisions(revs: KObject[]): KObject[] {
  return [...revs].sort(
    (a, b) =>
      revisionNumber(a) - revisionNumber(b) ||
      (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') ||
      (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
  );
}

export const maxRevision = (revs: KObject[]): number => Math.max(0, ...revs.map(revisionNumber));

export interface OwnerKind {
  apiVersion: string;
  kind: string;
  ref: ResourceRef;
}

/**
 * The owner's revisions (ControllerRefManager.ClaimControllerRevisions): adopts matching orphans and
 * releases owned revisions whose labels no longer match; sorted by revision.
 */
export function claimRevisions(
  client: InProcessClient,
  informer: SharedInformer,
  owner: KObject,
  kind: OwnerKind,
  selector: LabelSelector,
): KObject[] {
  const ns = owner.metadata.namespace ?? '';
  const claimed = claimObjects(client, CONTROLLER_REVISIONS, owner, kind, selector, informer.list(ns));
  return sortRevisions(claimed.filter((r) => controllerRef(r)?.uid === owner.metadata.uid));
}

/** A new revision object (history.NewControllerRevision); its name comes from the hash. */
export function newRevision(
  owner: KObject,
  kind: OwnerKind,
  data: Record<string, unknown>,
  revision: number,
  hash: string,
): KObject {
  const tmplLabels = ((owner['spec'] ?? {}) as { template?: PodTemplate }).template?.metadata?.labels ?? {};
  const annotations = { ...(owner.metadata.annotations ?? {}) };
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: revisionName(owner.metadata.name ?? '', hash),
      namespace: owner.metadata.namespace,
      labels: { ...tmplLabels, [CONTROLLER_REVISION_HASH]: hash },
      ...(Object.keys(annotations).length ? { annotations } : {}),
      ownerReferences: [ownerRefFor(owner, kind.apiVersion, kind.kind)],
    },
    data,
    revision,
  };
}

/**
 * Creates a revision (history.CreateControllerRevision): on a name collision with an equal revision of
 * the same owner the existing one is returned; with a different one the collision count goes up and the
 * hash (and name) is recomputed. Returns the revision and the final collision count.
 */
export function createRevision(
  client: InProcessClient,
  owner: KObject,
  kind: OwnerKind,
  data: Record<string, unknown>,
  revision: number,
  collisionCount: number,
  hashOf: (collisionCount: number) => string,
): { revision: KObject; collisionCount: number } {
  const ns = owner.metadata.namespace ?? '';
  for (let attempt = 0; attempt < 100; attempt++) {
    const hash = hashOf(collisionCount);
    const rev = newRevision(owner, kind, data, revision, hash);
    try {
      return { revision: client.create(CONTROLLER_REVISIONS, ns, rev), collisionCount };
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      let existing: KObject | undefined;
      try {
        existing = client.get(CONTROLLER_REVISIONS, ns, rev.metadata.name ?? '');
      } catch (g) {
        if (!isNotFound(g)) throw g;
        continue;
      }
      if (controllerRef(existing)?.uid === owner.metadata.uid && equalRevisionData(existing['data'], data))
        return { revision: existing, collisionCount };
      collisionCount++;
    }
  }
  throw new Error(`could not create a ControllerRevision for ${owner.metadata.name ?? ''}`);
}

/** Sets a revision's number (history.UpdateControllerRevision). */
export function updateRevisionNumber(client: InProcessClient, rev: KObject, revision: number): KObject {
  if (revisionNumber(rev) === revision) return rev;
  const ns = rev.metadata.namespace ?? '';
  for (let attempt = 0; ; attempt++) {
    const live = attempt === 0 ? rev : client.get(CONTROLLER_REVISIONS, ns, rev.metadata.name ?? '');
    try {
      return client.update(CONTROLLER_REVISIONS, ns, { ...deepCopy(live), revision });
    } catch (e) {
      if (!(e instanceof StatusError && e.code === 409) || attempt >= 3) throw e;
    }
  }
}

/**
 * Deletes the oldest revisions beyond the history limit, never one that is live (named in `live`, e.g.
 * the current and update revisions or a revision a pod still runs).
 */
export function truncateHistory(
  client: InProcessClient,
  revisions: KObject[],
  live: Set<string>,
  limit: number,
): void {
  const old = sortRevisions(revisions).filter((r) => !live.has(r.metadata.name ?? ''));
  const excess = old.length - Math.max(0, limit);
  for (let i = 0; i < excess; i++) {
    const r = old[i]!;
    try {
      client.delete(CONTROLLER_REVISIONS, r.metadata.namespace ?? '', r.metadata.name ?? '', {
        preconditions: { uid: r.metadata.uid ?? '' },
      });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}
