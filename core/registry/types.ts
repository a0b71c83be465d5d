/**
 * The contract between the generic registry (core/apiserver) and the one strategy file per kind
 * (core/registry/<group>/<kind>.ts). A strategy says what Kubernetes' REST strategy for that kind says:
 * defaulting (SetDefaults_*), create/update preparation, validation, table printing and field selectors.
 */
import type { KObject } from '../api/object.ts';
import type { FieldError } from '../api/field-errors.ts';

export type Verb = 'create' | 'delete' | 'deletecollection' | 'get' | 'list' | 'patch' | 'update' | 'watch';

export const ALL_VERBS: readonly Verb[] = [
  'create',
  'delete',
  'deletecollection',
  'get',
  'list',
  'patch',
  'update',
  'watch',
];

/** Describes one REST resource as discovery shows it. */
export interface ResourceInfo {
  group: string; // '' for core
  version: string;
  resource: string; // plural, e.g. 'deployments'
  singular: string; // e.g. 'deployment'
  kind: string; // e.g. 'Deployment'
  listKind?: string; // default `${kind}List`
  namespaced: boolean;
  verbs: readonly Verb[];
  shortNames?: readonly string[];
  categories?: readonly string[];
}

/** One column of a meta.k8s.io/v1 Table, as printers.go defines it. */
export interface TableColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format?: string; // e.g. 'name'
  description?: string;
  priority?: number; // 0 = default, 1 = -o wide
}

export type TableCell = string | number | boolean | null;

/** What a strategy hook may know about the request it runs in. */
export interface RequestContext {
  /** The authenticated (or impersonated) user making the request. */
  user: UserInfo;
  /** Current time (injectable for tests). */
  now: Date;
  /** True for dryRun=All. */
  dryRun: boolean;
  /** The authorizer chain (for review kinds: SelfSubjectAccessReview, SubjectAccessReview, rules reviews). */
  authorizer: import('../auth/types.ts').Authorizer;
  /** The subresource being written (status, binding, …), as admission attributes carry it. */
  subresource?: string;
  /** Admission warnings for the response's Warning header (set per API request; absent in-process). */
  warnings?: string[];
  /** Audit annotations admission adds to the request's audit event (set per API request). */
  auditAnnotations?: Record<string, string>;
}

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** A subresource a kind serves. `status` and `scale` have generic implementations. */
export interface ScaleAccess {
  /** JSON path pieces to .spec.replicas, .status.replicas and the label selector string. */
  specReplicas(obj: KObject): number;
  setSpecReplicas(obj: KObject, n: number): void;
  statusReplicas(obj: KObject): number;
  selector(obj: KObject): string;
}

export interface Strategy {
  info: ResourceInfo;

  /** Kubernetes defaulting (SetDefaults_*). Mutates obj. Runs on create, update and patch results. */
  defaults?(obj: KObject): void;

  /**
   * Create preparation (PrepareForCreate): e.g. reset status for kinds with a status subresource,
   * set generation. The generic layer already sets uid, creationTimestamp, resourceVersion, generation=1.
   */
  prepareForCreate?(obj: KObject, ctx: RequestContext): void;

  /**
   * Update preparation (PrepareForUpdate): e.g. keep old status for kinds with a status subresource;
   * bump generation when spec changed (the generic layer bumps generation when anything outside
   * metadata and status changed, unless `generationFromSpec` says otherwise).
   */
  prepareForUpdate?(obj: KObject, old: KObject, ctx: RequestContext): void;

  /** Status subresource writes: runs after the generic layer copied everything but .status from the old object. */
  prepareForStatusUpdate?(obj: KObject, old: KObject, ctx: RequestContext): void;
  /** Status subresource validation (replaces validate/validateUpdate there). */
  validateStatusUpdate?(obj: KObject, old: KObject, ctx: RequestContext): FieldError[];
  /** namespaces/finalize validation. */
  validateFinalize?(obj: KObject): FieldError[];
  /**
   * Whether the kind keeps metadata.generation (set to 1 on create, bumped on spec changes), as the
   * workload kinds do; kinds such as ConfigMap or Service have no generation.
   */
  tracksGeneration?: boolean;

  /** Validation on create. Object metadata (name, labels…) is validated generically first. */
  validate?(obj: KObject, ctx: RequestContext): FieldError[];
  /** Validation on update (immutable fields and update-only rules). Runs in addition to `validate`. */
  validateUpdate?(obj: KObject, old: KObject, ctx: RequestContext): FieldError[];

  /** Name validation for metadata.name (default: DNS-1123 subdomain; some kinds use label or path segment). */
  nameValidation?: 'subdomain' | 'label' | 'path-segment' | 'none';

  /** Whether the kind has a status subresource (then the main resource ignores .status on update). */
  hasStatus?: boolean;
  /** Scale subresource access, for kinds that serve /scale. */
  scale?: ScaleAccess;
  /** Extra subresources to list in discovery (e.g. pods/log), beyond status and scale. */
  extraSubresources?: readonly {
    name: string;
    kind: string;
    group?: string;
    version?: string;
    verbs: readonly Verb[];
  }[];

  /** Table columns exactly as kubectl/printers.go shows them (Name first). */
  columns?: readonly TableColumn[];
  /** The cells of one row, one per column. `now` is for Age columns. */
  row?(obj: KObject, now: Date): TableCell[];

  /** Field selector values beyond metadata.name/metadata.namespace (e.g. pods: spec.nodeName, status.phase). */
  fieldSelectors?(obj: KObject): Record<string, string>;

  /** Kinds that are not stored (reviews): handle create and return the response object. */
  virtualCreate?(obj: KObject, ctx: RequestContext): KObject | Promise<KObject>;

  /**
   * Deletion held by the object itself (namespaces with spec.finalizers): DELETE then only sets
   * deletionTimestamp and calls `markDeleting` (e.g. status.phase = Terminating).
   */
  holdsDeletion?(obj: KObject): boolean;
  markDeleting?(obj: KObject): void;

  /** Pod-like graceful deletion: the grace period to apply on DELETE (undefined = delete immediately). */
  gracePeriod?(obj: KObject, requested: number | undefined): number | undefined;

  /** PUT of a missing object creates it (AllowCreateOnUpdate; e.g. leases, endpoints, RBAC objects). */
  allowCreateOnUpdate?: boolean;
  /** DELETE answers with the deleted object instead of a Success Status (ReturnDeletedObject). */
  returnDeletedObject?: boolean;

  /** Whether strategic merge patch is supported (built-in kinds: yes; default true). */
  supportsStrategicMerge?: boolean;

  /**
   * For a kind served in several versions or groups from ONE storage (events.k8s.io/v1 Event is stored as
   * core/v1 Event; autoscaling/v1 HPA as autoscaling/v2): the storage resource and the conversions.
   * The stored form is the other strategy's; `fromStorage` must set apiVersion/kind of this version.
   */
  storedAs?: {
    group: string;
    resource: string;
    toStorage(obj: KObject): KObject;
    fromStorage(obj: KObject): KObject;
  };
}
