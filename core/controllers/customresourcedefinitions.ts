/**
 * The CustomResourceDefinition controller (apiextensions-apiserver's naming, establishing and finalizer
 * controllers in one): accepts a CRD's names unless another CRD of the group already uses them
 * (NamesAccepted, status.acceptedNames), then marks it Established (which makes the API server serve it).
 * A deleted CRD is marked Terminating, every instance is deleted, and then the
 * customresourcecleanup.apiextensions.k8s.io finalizer is removed so the CRD goes.
 */
import { rfc3339, type KObject } from '../api/object.ts';
import { StatusError } from '../api/status.ts';
import type { InProcessClient, ResourceRef } from '../client/in-process.ts';
import {
  CLEANUP_FINALIZER,
  conditionOf,
  CRD_GROUP,
  CRD_RESOURCE,
  type CRDCondition,
  type CRDNames,
  type CustomResourceDefinition,
} from '../apiextensions/types.ts';
import type { Watcher } from '../store/types.ts';
import { runWorkers, WorkQueue } from '../client/workqueue.ts';

const CRDS: ResourceRef = { group: CRD_GROUP, version: 'v1', resource: CRD_RESOURCE };

function namesOf(n: CRDNames | undefined): string[] {
  return [n?.plural, n?.singular, ...(n?.shortNames ?? [])].filter((x): x is string => !!x);
}

/** Sets a condition, keeping lastTransitionTime when the status does not change. */
function setCondition(
  crd: CustomResourceDefinition,
  c: Omit<CRDCondition, 'lastTransitionTime'>,
  now: Date,
): void {
  const status = (crd.status ??= {});
  const conds = (status.conditions ??= []);
  const old = conds.find((x) => x.type === c.type);
  const next: CRDCondition = {
    ...c,
    lastTransitionTime: old && old.status === c.status ? old.lastTransitionTime : rfc3339(now),
  };
  if (old) conds.splice(conds.indexOf(old), 1, next);
  else conds.push(next);
}

export class CustomResourceDefinitionController {
  readonly queue = new WorkQueue();
  private watcher?: Watcher;
  private running?: Promise<void>;

  constructor(
    private readonly client: InProcessClient,
    private readonly retryMs = 500,
  ) {}

  start(): void {
    this.watcher = this.client.watch(CRDS, '', {}, (_type, crd) => {
      // A change of one CRD may free or take names another one waits for: look at every CRD of the group.
      const group = (crd as CustomResourceDefinition).spec?.group;
      this.queue.add(crd.metadata.name ?? '');
      for (const other of this.client.list(CRDS, '').items as CustomResourceDefinition[])
        if (other.spec?.group === group && conditionOf(other, 'NamesAccepted')?.status !== 'True')
          this.queue.add(other.metadata.name ?? '');
    });
    this.running = runWorkers(this.queue, 1, (name) => {
      try {
        return this.sync(name) ? undefined : { requeueAfterMs: this.retryMs };
      } catch (e) {
        if (e instanceof StatusError && e.code === 404) return undefined;
        throw e;
      }
    });
  }

  async stop(): Promise<void> {
    this.watcher?.stop();
    this.queue.shutDown();
    await this.running;
  }

  /** Returns false to be retried. */
  private sync(name: string): boolean {
    const crd = this.client.get(CRDS, '', name) as CustomResourceDefinition;
    if (crd.metadata.deletionTimestamp) return this.finalize(crd);
    const next = structuredClone(crd);
    const now = new Date();
    const conflict = this.nameConflict(crd);
    if (conflict) {
      setCondition(
        next,
        { type: 'NamesAccepted', status: 'False', reason: conflict.reason, message: conflict.message },
        now,
      );
      if (conditionOf(crd, 'Established')?.status !== 'True')
        setCondition(
          next,
          {
            type: 'Established',
            status: 'False',
            reason: 'NotAccepted',
            message: 'not all names are accepted',
          },
          now,
        );
    } else {
      next.status = { ...(next.status ?? {}), acceptedNames: structuredClone(crd.spec.names) };
      setCondition(
        next,
        { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' },
        now,
      );
      setCondition(
        next,
        {
          type: 'Established',
          status: 'True',
          reason: 'InitialNamesAccepted',
          message: 'the initial names have been accepted',
        },
        now,
      );
    }
    if (JSON.stringify(next.status) !== JSON.stringify(crd.status))
      this.client.update(CRDS, '', next, 'status');
    return true;
  }

  /** Names of `crd` another CRD of its group already has accepted. */
  private nameConflict(crd: CustomResourceDefinition): { reason: string; message: string } | undefined {
    const mine = crd.spec.names;
    for (const other of this.client.list(CRDS, '').items as CustomResourceDefinition[]) {
      if (other.metadata.name === crd.metadata.name || other.spec.group !== crd.spec.group) continue;
      const theirs = other.status?.acceptedNames;
      if (!theirs) continue;
      const taken = new Set(namesOf(theirs));
      if (mine.plural && taken.has(mine.plural))
        return { reason: 'PluralConflict', message: `"${mine.plural}" is already in use` };
      if (mine.singular && taken.has(mine.singular))
        return { reason: 'SingularConflict', message: `"${mine.singular}" is already in use` };
      const short = (mine.shortNames ?? []).find((s) => taken.has(s));
      if (short) return { reason: 'ShortNamesConflict', message: `"${short}" is already in use` };
      if (mine.kind && (mine.kind === theirs.kind || mine.kind === theirs.listKind))
        return { reason: 'KindConflict', message: `"${mine.kind}" is already in use` };
      if (mine.listKind && (mine.listKind === theirs.kind || mine.listKind === theirs.listKind))
        return { reason: 'ListKindConflict', message: `"${mine.listKind}" is already in use` };
    }
    return undefined;
  }

  /** Deleting: mark Terminating, delete every instance, then release the cleanup finalizer. */
  private finalize(crd: CustomResourceDefinition): boolean {
    if (!(crd.metadata.finalizers ?? []).includes(CLEANUP_FINALIZER)) return true;
    if (conditionOf(crd, 'Terminating')?.status !== 'True') {
      const next = structuredClone(crd);
      setCondition(
        next,
        {
          type: 'Terminating',
          status: 'True',
          reason: 'InstanceDeletionInProgress',
          message: 'CustomResource deletion is in progress',
        },
        new Date(),
      );
      this.client.update(CRDS, '', next, 'status');
    }
    const storage = crd.spec.versions.find((v) => v.storage)?.name ?? '';
    const kind = crd.status?.acceptedNames?.kind ?? crd.spec.names.kind ?? '';
    const ref = this.client.resourceFor(`${crd.spec.group}/${storage}`, kind);
    if (ref) {
      const items = this.client.list(ref, '').items;
      for (const item of items) this.deleteInstance(ref, item);
      if (this.client.list(ref, '').items.length) return false;
    }
    const live = this.client.get(CRDS, '', crd.metadata.name ?? '');
    const next: KObject = {
      ...live,
      metadata: {
        ...live.metadata,
        finalizers: (live.metadata.finalizers ?? []).filter((f) => f !== CLEANUP_FINALIZER),
      },
    };
    this.client.update(CRDS, '', next);
    return true;
  }

  private deleteInstance(ref: ResourceRef, item: KObject): void {
    if (item.metadata.deletionTimestamp) return;
    try {
      this.client.delete(ref, item.metadata.namespace ?? '', item.metadata.name ?? '', {
        propagationPolicy: 'Background',
      });
    } catch (e) {
      if (!(e instanceof StatusError && e.code === 404)) throw e;
    }
  }
}
