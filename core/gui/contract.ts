/**
 * The one typed contract between the GUI renderer and the main-process services (DESIGN.md §6).
 * TYPES ONLY: this file is imported by core/gui (the services), electron/ (IPC shell, re-exported as
 * electron/contract.ts) and renderer/ (Vue app). It must stay free of runtime code and imports, so
 * that each side can use it without pulling in the other.
 *
 * Transport: in Electron, `request` is an `ipcRenderer.invoke` on IPC_REQUEST_CHANNEL and events
 * arrive on IPC_EVENT_CHANNEL; in browser mode (`berth serve`) both travel as JSON text frames on one
 * authenticated WebSocket: the client sends `RequestMessage`s, the server sends `ResponseMessage`s and
 * `EventMessage`s, in order.
 */

// ─── Kubernetes objects as plain JSON ──────────────────────────────────────────────────────────────

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
}

/** Any Kubernetes object exactly as the API server sent it (JSON). Views narrow it per kind. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: JsonValue | ObjectMeta | undefined;
}

/** A `metav1.Status` (errors and the result of some deletes). */
export interface KubeStatus {
  kind?: 'Status';
  apiVersion?: string;
  status?: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  code?: number;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    uid?: string;
    causes?: { reason?: string; message?: string; field?: string }[];
  };
}

/** Group/version/resource, e.g. { group: '', version: 'v1', resource: 'pods' } or apps/v1 deployments. */
export interface ResourceRef {
  group: string;
  version: string;
  resource: string;
}

// ─── Clusters ──────────────────────────────────────────────────────────────────────────────────────

export type ClusterSource = 'berth' | 'kubeconfig';

export interface ClusterInfo {
  /** Stable id: `berth:<data dir>` for built-in clusters, `kubeconfig:<context>` for the user's contexts. */
  id: string;
  /** Display name: the Berth cluster name, or the kubeconfig context name. */
  name: string;
  source: ClusterSource;
  /** API server URL (from the kubeconfig). */
  server: string;
  /** `running` when /readyz answered ok, `unreachable` otherwise; `unknown` when not probed. */
  status: 'running' | 'unreachable' | 'unknown';
  /** Built-in clusters: their data dir. */
  dataDir?: string;
  /** The namespace of the context (kubeconfig), if any. */
  namespace?: string;
  /** Built-in clusters: what this GUI host (Electron main process or `berth serve`) is doing with it. */
  hosted?: HostedClusterState;
}

/**
 * A built-in cluster's life in this GUI host. `stopped`: not run by this host (it may still run in a
 * `berth up` elsewhere — then `status` says running). The other phases are this host's own doing.
 */
export type HostedPhase = 'starting' | 'running' | 'stopping' | 'stopped' | 'deleting' | 'failed';

export interface HostedClusterState {
  phase: HostedPhase;
  /** The node driver the cluster uses (from its cluster.json). */
  driver?: 'docker' | 'simulated';
  /** From the last "nodes Ready: n/N" progress line. */
  nodesReady?: { ready: number; total: number };
  /** The last progress lines (image builds, node boots), oldest first. */
  progress: string[];
  /** Why the last start/stop/delete failed. */
  error?: string;
}

export interface CreateClusterParams {
  /** A DNS label: also the data dir's name and the label on its Docker resources. */
  name: string;
  nodes: number;
  driver: 'docker' | 'simulated';
}

/** One node as the cluster's driver sees it. */
export interface HostedNode {
  name: string;
  driver: string;
  state: 'running' | 'stopped';
  internalIP?: string;
}

// ─── Watch stream ──────────────────────────────────────────────────────────────────────────────────

/**
 * What the watch service sends for one subscription, in order, batched:
 * - SYNC: a full list (first, and again after every relist, e.g. after 410 Gone) — replaces all items.
 *   Long lists come in pages (the first one small, so it paints at once): later pages are `continued`.
 * - ADDED / MODIFIED / DELETED: watch events after the SYNC's resourceVersion.
 * - BOOKMARK: progress marker (resourceVersion only).
 * - ERROR: a watch error; code 410 means "expired, a SYNC follows"; other codes are shown to the user.
 */
export type WatchEvent =
  | {
      type: 'SYNC';
      items: KubeObject[];
      resourceVersion: string;
      /** A later page of the same list (same resourceVersion): add its items to the SYNC before it. */
      continued?: boolean;
      /** More pages of this list follow. */
      more?: boolean;
    }
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: KubeObject }
  | { type: 'BOOKMARK'; resourceVersion: string }
  | { type: 'ERROR'; status: KubeStatus };

export type WatchEventType = WatchEvent['type'];

// ─── Apply ─────────────────────────────────────────────────────────────────────────────────────────

export interface ApplyDocumentResult {
  /** 0-based index of the YAML document. */
  index: number;
  /** 1-based line of the document's first line in the submitted text. */
  line: number;
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  /** created / configured / unchanged (as kubectl prints), or failed. */
  action: 'created' | 'configured' | 'unchanged' | 'failed';
  /** The object as the server would store it (dry run) or stored it (apply). */
  object?: KubeObject;
  /** The object as it was before this apply (absent when it did not exist): the left side of a diff. */
  current?: KubeObject;
  error?: ContractError;
}

export interface ApplyResult {
  /** True when only the server-side dry run ran (dryRun requested, or some document failed it). */
  dryRun: boolean;
  documents: ApplyDocumentResult[];
}

// ─── Schemas for the manifest editor ───────────────────────────────────────────────────────────────

export interface GroupVersionKind {
  /** `v1`, `apps/v1`… */
  apiVersion: string;
  kind: string;
}

/** A JSON Schema (draft-07) document, as plain JSON. */
export type JsonSchema = { [key: string]: JsonValue };

export interface EditorSchema {
  /**
   * One schema for a whole (multi-document) manifest: each known apiVersion/kind pair selects its type's
   * schema (if/then), derived from the cluster's OpenAPI v3 (unknown fields refused, int-or-string and
   * nullable spelled out in JSON Schema).
   */
  schema: JsonSchema;
  /** The requested kinds the cluster's OpenAPI describes. */
  found: GroupVersionKind[];
  /** The requested kinds it does not (unknown kind or version): not validated. */
  missing: GroupVersionKind[];
}

// ─── "Why is this pod Pending?" (Berth's pods/schedulingverdict) ─────────────────────────────────

export interface ResourceComparison {
  resource: string;
  /** What the pod requests. */
  requested: number;
  /** What the node's other pods already request. */
  used: number;
  allocatable: number;
}

export interface FilterVerdict {
  /** The scheduler filter plugin (NodeResourcesFit, TaintToleration, NodeAffinity…). */
  plugin: string;
  fits: boolean;
  /** Kubernetes' FailedScheduling wording; empty when the node passes the filter. */
  reasons: string[];
  unresolvable?: boolean;
  resources?: ResourceComparison[];
}

export interface NodeSchedulingVerdict {
  node: string;
  fits: boolean;
  failedPlugin?: string;
  reasons: string[];
  unresolvable: boolean;
  filters: FilterVerdict[];
}

export interface PodSchedulingVerdict {
  apiVersion: string;
  kind: 'PodSchedulingVerdict';
  metadata: { name: string; namespace: string; uid?: string };
  attemptedAt?: string;
  /** 0 when no attempt is recorded (the scheduler restarted, or the pod named its node). */
  attempts: number;
  boundTo?: string;
  /** The FailedScheduling message, or why there is no verdict. */
  message?: string;
  nodes: NodeSchedulingVerdict[];
  scores: { node: string; total: number; scores: Record<string, number> }[];
}

// ─── RBAC: users, "view as" ──────────────────────────────────────────────────────────────────────

/** Who a "view as" matrix or mode is for. */
export type RbacSubject =
  | { kind: 'User'; name: string; groups?: string[] }
  | { kind: 'Group'; name: string }
  | { kind: 'ServiceAccount'; namespace: string; name: string };

/** A user of a built-in cluster (`berth user create`: a client certificate signed by the cluster CA). */
export interface BerthUser {
  name: string;
  /** The certificate's organizations (Kubernetes groups). */
  groups: string[];
  /** Certificate serial (hex). */
  serial: string;
  /** When the certificate and kubeconfig were issued (RFC 3339), when known. */
  created?: string;
  notAfter: string;
  /** On the cluster's revocation list: the API server refuses the certificate. */
  revoked: boolean;
}

export interface CreateUserParams {
  name: string;
  groups: string[];
  /** Also bind a ClusterRole: in `namespace` (a RoleBinding) or cluster-wide (a ClusterRoleBinding). */
  binding?: { clusterRole: string; namespace?: string };
}

/** A reference to a binding or role, as the views link them. */
export interface RbacObjectRef {
  kind: 'RoleBinding' | 'ClusterRoleBinding' | 'Role' | 'ClusterRole';
  name: string;
  namespace?: string;
}

export interface RbacRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** One RBAC binding that grants a request (from Berth's RBAC authorizer, core/auth/rbac/explain.ts). */
export interface AccessGrant {
  binding: RbacObjectRef;
  role: RbacObjectRef;
  /** The role's rule that matched. */
  rule: RbacRule;
  /** The binding's subjects that name the subject (e.g. `User alice`, `Group system:authenticated`). */
  via: string[];
  /** "RoleBinding default/alice-view → ClusterRole view". */
  text: string;
}

export interface AccessCell {
  verb: string;
  /** The API server's SubjectAccessReview answer. */
  allowed: boolean;
  /** The RBAC bindings that grant it (empty when another authorizer allowed it: see `reason`). */
  grants: AccessGrant[];
  /** The review's reason / evaluation error, when it gave one. */
  reason?: string;
}

export interface AccessRow {
  group: string;
  resource: string;
  subresource?: string;
  /** `pods`, `pods/log`, `deployments.apps`… */
  label: string;
  namespaced: boolean;
  cells: AccessCell[];
}

export interface AccessMatrix {
  subject: RbacSubject;
  /** The identity the reviews asked about (name and groups, system:authenticated included). */
  user: { username: string; groups: string[] };
  namespace: string;
  verbs: string[];
  rows: AccessRow[];
  /** RBAC problems met (bindings to missing roles). */
  errors: string[];
}

/** A request the current identity (the "view as" subject while that mode is on) may or may not make. */
export interface AccessQuestion {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export interface ViewAsState {
  /** The cluster whose requests are impersonated; absent when the mode is off. */
  cluster?: string;
  subject?: RbacSubject;
  /** The Impersonate-User / Impersonate-Group values sent. */
  impersonate?: { user: string; groups: string[] };
}

// ─── Methods ───────────────────────────────────────────────────────────────────────────────────────

export interface ClusterScoped {
  /** A ClusterInfo.id. */
  cluster: string;
}

export interface Methods {
  'clusters.list': { params: Record<string, never>; result: ClusterInfo[] };
  'resources.list': {
    params: ClusterScoped & {
      ref: ResourceRef;
      namespace?: string;
      labelSelector?: string;
      fieldSelector?: string;
    };
    result: { items: KubeObject[]; resourceVersion: string };
  };
  'resources.get': {
    params: ClusterScoped & { ref: ResourceRef; namespace?: string; name: string };
    result: KubeObject;
  };
  /** Starts a list+watch; events arrive as WatchBatchMessages for `subscriptionId` (chosen by the caller). */
  'resources.subscribe': {
    params: ClusterScoped & {
      subscriptionId: string;
      ref: ResourceRef;
      namespace?: string;
      labelSelector?: string;
      fieldSelector?: string;
    };
    result: { subscriptionId: string };
  };
  'resources.unsubscribe': { params: { subscriptionId: string }; result: { stopped: boolean } };
  /** Multi-document YAML: server-side dry run of every document first; applied only if all pass. */
  'resources.apply': {
    params: ClusterScoped & { yaml: string; defaultNamespace?: string; dryRun?: boolean; force?: boolean };
    result: ApplyResult;
  };
  'resources.delete': {
    params: ClusterScoped & {
      ref: ResourceRef;
      namespace?: string;
      name: string;
      propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
    };
    result: KubeStatus | KubeObject;
  };
  /** Scale subresource: sets spec.replicas of a Deployment, ReplicaSet or StatefulSet. */
  'resources.scale': {
    params: ClusterScoped & { ref: ResourceRef; namespace: string; name: string; replicas: number };
    result: KubeObject;
  };
  /** `kubectl rollout restart deployment/<name>`: stamps the pod template's restartedAt annotation. */
  'deployments.restart': {
    params: ClusterScoped & { namespace: string; name: string };
    result: KubeObject;
  };
  /** The editor's JSON Schema for the given kinds, from the cluster's /openapi/v3. */
  'openapi.schema': { params: ClusterScoped & { kinds: GroupVersionKind[] }; result: EditorSchema };
  /** GET pods/<name>/schedulingverdict: the scheduler's per-node verdict of the last attempt. */
  'pods.schedulingVerdict': {
    params: ClusterScoped & { namespace: string; name: string };
    result: PodSchedulingVerdict;
  };
  /** The cluster's kubeconfig (admin for built-in clusters; the single context otherwise). */
  'kubeconfig.export': { params: ClusterScoped; result: { yaml: string; fileName: string } };
  /**
   * Merges the cluster's kubeconfig into the user's kubeconfig (~/.kube/config, or the first file of
   * $KUBECONFIG) as context `berth-<name>`; the old file is copied to `<file>.berth-backup-<time>` first.
   */
  'kubeconfig.merge': {
    params: ClusterScoped;
    result: { file: string; context: string; backup?: string };
  };

  // Built-in clusters hosted by this process (progress arrives as ClusterProgressMessages).
  /** Creates the cluster's data dir and starts it; resolves at once (phase `starting`). */
  'clusters.create': { params: CreateClusterParams; result: ClusterInfo };
  'clusters.start': { params: ClusterScoped; result: ClusterInfo };
  'clusters.stop': { params: ClusterScoped; result: ClusterInfo };
  /** Stops the cluster if hosted here, removes its Docker containers, volumes and network, and its data dir. */
  'clusters.delete': { params: ClusterScoped; result: { deleted: boolean } };
  'nodes.list': { params: ClusterScoped; result: HostedNode[] };
  /** Adds a node (named `<cluster>-worker-<n>` unless given). */
  'nodes.add': { params: ClusterScoped & { name?: string }; result: HostedNode };
  'nodes.remove': { params: ClusterScoped & { name: string }; result: { removed: boolean } };
  'nodes.stop': { params: ClusterScoped & { name: string }; result: HostedNode };
  'nodes.start': { params: ClusterScoped & { name: string }; result: HostedNode };

  // Terminals (output arrives as TerminalMessages).
  /**
   * Opens a terminal: `shell` is a local shell with KUBECONFIG set to the cluster; `exec` a TTY in a
   * container through the API server's pods/exec.
   */
  'terminal.open': {
    params: ClusterScoped & {
      terminalId: string;
      cols: number;
      rows: number;
      target: { kind: 'shell' } | { kind: 'exec'; namespace: string; pod: string; container?: string };
    };
    result: { terminalId: string; title: string };
  };
  'terminal.input': { params: { terminalId: string; data: string }; result: { ok: true } };
  'terminal.resize': { params: { terminalId: string; cols: number; rows: number }; result: { ok: true } };
  'terminal.close': { params: { terminalId: string }; result: { closed: boolean } };

  // Logs (lines arrive as LogMessages).
  /**
   * Streams the logs of one pod, or merged of several pods (a workload's), each line with a `pod/container`
   * prefix when more than one stream is open.
   */
  'logs.open': {
    params: ClusterScoped & {
      streamId: string;
      namespace: string;
      pods: string[];
      container?: string;
      follow: boolean;
      previous: boolean;
      timestamps: boolean;
      tailLines?: number;
    };
    result: { streamId: string; streams: { pod: string; container: string }[] };
  };
  'logs.close': { params: { streamId: string }; result: { closed: boolean } };

  // RBAC (users: built-in clusters only; they use the same code as `berth user`).
  'users.list': { params: ClusterScoped; result: BerthUser[] };
  /** Issues the certificate and writes the user's kubeconfig; optionally binds a ClusterRole. */
  'users.create': {
    params: ClusterScoped & CreateUserParams;
    result: { user: BerthUser; binding?: RbacObjectRef };
  };
  'users.kubeconfig': {
    params: ClusterScoped & { name: string };
    result: { yaml: string; fileName: string };
  };
  /** Puts the certificate on the revocation list: it stops working at once. */
  'users.revoke': { params: ClusterScoped & { name: string }; result: BerthUser };
  /**
   * Verbs × resources for a subject in a namespace: SubjectAccessReviews for the answers, Berth's RBAC
   * authorizer (fed with the cluster's roles and bindings) for the bindings that grant them. Runs with
   * this host's own credentials, also while "view as" is on.
   */
  'rbac.matrix': {
    params: ClusterScoped & { subject: RbacSubject; namespace: string };
    result: AccessMatrix;
  };
  /** SelfSubjectAccessReviews as the current identity (the "view as" subject while that mode is on). */
  'rbac.can': {
    params: ClusterScoped & { questions: AccessQuestion[] };
    result: { allowed: boolean; reason?: string }[];
  };
  /**
   * "View as": from now on every request of this window to the cluster carries Impersonate-User/-Group
   * headers for the subject (open lists are re-read as the subject); `subject: null` leaves the mode.
   */
  'viewAs.set': { params: ClusterScoped & { subject: RbacSubject | null }; result: ViewAsState };
}

export type Method = keyof Methods;
export type Params<M extends Method> = Methods[M]['params'];
export type Result<M extends Method> = Methods[M]['result'];

export interface ContractError {
  message: string;
  /** HTTP status code of the Kubernetes API answer, when the error came from it. */
  code?: number;
  /** Kubernetes Status reason (NotFound, AlreadyExists, Invalid, Forbidden, Expired…). */
  reason?: string;
  /** 1-based line in submitted YAML the error refers to (apply). */
  line?: number;
  causes?: { reason?: string; message?: string; field?: string }[];
}

// ─── Wire messages ─────────────────────────────────────────────────────────────────────────────────

export type RequestMessage = {
  [M in Method]: { kind: 'request'; id: number; method: M; params: Params<M> };
}[Method];

export type ResponseMessage =
  | { kind: 'response'; id: number; ok: true; result: Result<Method> }
  | { kind: 'response'; id: number; ok: false; error: ContractError };

export interface WatchBatchMessage {
  kind: 'event';
  channel: 'resources.watch';
  subscriptionId: string;
  events: WatchEvent[];
}

/** A hosted cluster changed phase or printed a progress line (sent to every window). */
export interface ClusterProgressMessage {
  kind: 'event';
  channel: 'clusters.progress';
  cluster: string;
  state: HostedClusterState;
  /** The new progress line, if this event carries one. */
  line?: string;
}

export interface TerminalMessage {
  kind: 'event';
  channel: 'terminal';
  terminalId: string;
  /** Output text (UTF-8), or the exit when `exit` is set. */
  data?: string;
  exit?: { code: number | null; message?: string };
}

export interface LogMessage {
  kind: 'event';
  channel: 'logs';
  streamId: string;
  /** Lines in arrival order (prefixed `[pod/container] ` when several streams are merged). */
  lines?: string[];
  /** A stream ended (or failed): which, and why. */
  ended?: { pod: string; container: string; error?: string };
}

/** What the desktop app's menu asks of the window (the renderer acts as if the user had clicked). */
export type AppCommand = 'new-cluster' | 'export-kubeconfig' | 'show-clusters';

/** A menu command from the Electron shell (never sent by `berth serve`). */
export interface AppCommandMessage {
  kind: 'event';
  channel: 'app.command';
  command: AppCommand;
}

export type EventMessage =
  WatchBatchMessage | ClusterProgressMessage | TerminalMessage | LogMessage | AppCommandMessage;
export type ServerMessage = ResponseMessage | EventMessage;

/** What the renderer sees, whatever the transport (Electron preload bridge or WebSocket client). */
export interface BerthBridge {
  request<M extends Method>(method: M, params: Params<M>): Promise<Result<M>>;
  /** Registers an event listener; returns a function that removes it. */
  onEvent(listener: (message: EventMessage) => void): () => void;
}

/** What the main process answers to an IPC request (the preload turns `ok: false` into a rejection). */
export type IpcReply = { ok: true; result: Result<Method> } | { ok: false; error: ContractError };

/** Electron IPC channel names (the preload exposes a BerthBridge built on them as `window.berth`). */
export type IpcRequestChannel = 'berth:request';
export type IpcEventChannel = 'berth:event';
