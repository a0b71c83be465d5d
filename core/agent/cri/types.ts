/**
 * TypeScript shapes of the CRI v1 messages the node agent uses (see cri-proto.ts for the wire
 * definition). Field names are protobufjs' camelCase of the proto names; enums are their string
 * names; int64 values are plain numbers (nanosecond timestamps fit a double closely enough for
 * ordering and display). Every field is optional on requests, as in proto3.
 */

export type CriProtocol = 'TCP' | 'UDP' | 'SCTP';
export type CriMountPropagation =
  'PROPAGATION_PRIVATE' | 'PROPAGATION_HOST_TO_CONTAINER' | 'PROPAGATION_BIDIRECTIONAL';
export type CriNamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';
export type CriPodSandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
export type CriContainerState =
  'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';
export type CriProfileType = 'RuntimeDefault' | 'Unconfined' | 'Localhost';

export interface CriVersionResponse {
  version: string;
  runtimeName: string;
  runtimeVersion: string;
  runtimeApiVersion: string;
}

export interface CriDNSConfig {
  servers?: string[];
  searches?: string[];
  options?: string[];
}

export interface CriPortMapping {
  protocol?: CriProtocol;
  containerPort?: number;
  hostPort?: number;
  hostIp?: string;
}

export interface CriMount {
  containerPath: string;
  hostPath: string;
  readonly?: boolean;
  selinuxRelabel?: boolean;
  propagation?: CriMountPropagation;
}

export interface CriNamespaceOption {
  network?: CriNamespaceMode;
  pid?: CriNamespaceMode;
  ipc?: CriNamespaceMode;
  targetId?: string;
}

export interface CriInt64Value {
  value: number;
}

export interface CriSecurityProfile {
  profileType?: CriProfileType;
  localhostRef?: string;
}

export interface CriSELinuxOption {
  user?: string;
  role?: string;
  type?: string;
  level?: string;
}

export interface CriLinuxSandboxSecurityContext {
  namespaceOptions?: CriNamespaceOption;
  selinuxOptions?: CriSELinuxOption;
  runAsUser?: CriInt64Value;
  runAsGroup?: CriInt64Value;
  readonlyRootfs?: boolean;
  supplementalGroups?: number[];
  privileged?: boolean;
  seccomp?: CriSecurityProfile;
  apparmor?: CriSecurityProfile;
}

export interface CriHugepageLimit {
  pageSize: string;
  limit: number;
}

export interface CriLinuxContainerResources {
  cpuPeriod?: number;
  cpuQuota?: number;
  cpuShares?: number;
  memoryLimitInBytes?: number;
  oomScoreAdj?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  hugepageLimits?: CriHugepageLimit[];
  unified?: Record<string, string>;
  memorySwapLimitInBytes?: number;
}

export interface CriLinuxPodSandboxConfig {
  cgroupParent?: string;
  securityContext?: CriLinuxSandboxSecurityContext;
  sysctls?: Record<string, string>;
  overhead?: CriLinuxContainerResources;
  resources?: CriLinuxContainerResources;
}

export interface CriPodSandboxMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt?: number;
}

export interface CriPodSandboxConfig {
  metadata: CriPodSandboxMetadata;
  hostname?: string;
  logDirectory?: string;
  dnsConfig?: CriDNSConfig;
  portMappings?: CriPortMapping[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  linux?: CriLinuxPodSandboxConfig;
}

export interface CriPodSandboxNetworkStatus {
  ip: string;
  additionalIps: { ip: string }[];
}

export interface CriPodSandboxStatus {
  id: string;
  metadata?: CriPodSandboxMetadata;
  state: CriPodSandboxState;
  createdAt: number;
  network?: CriPodSandboxNetworkStatus;
  linux?: { namespaces?: { options?: CriNamespaceOption } };
  labels: Record<string, string>;
  annotations: Record<string, string>;
  runtimeHandler: string;
}

export interface CriPodSandboxStatusResponse {
  status?: CriPodSandboxStatus;
  info: Record<string, string>;
}

export interface CriPodSandboxFilter {
  id?: string;
  state?: { state: CriPodSandboxState };
  labelSelector?: Record<string, string>;
}

export interface CriPodSandbox {
  id: string;
  metadata?: CriPodSandboxMetadata;
  state: CriPodSandboxState;
  createdAt: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  runtimeHandler: string;
}

export interface CriImageSpec {
  image: string;
  annotations?: Record<string, string>;
  userSpecifiedImage?: string;
}

export interface CriKeyValue {
  key: string;
  value: string;
}

export interface CriCapability {
  addCapabilities?: string[];
  dropCapabilities?: string[];
  addAmbientCapabilities?: string[];
}

export interface CriLinuxContainerSecurityContext {
  capabilities?: CriCapability;
  privileged?: boolean;
  namespaceOptions?: CriNamespaceOption;
  selinuxOptions?: CriSELinuxOption;
  runAsUser?: CriInt64Value;
  runAsGroup?: CriInt64Value;
  runAsUsername?: string;
  readonlyRootfs?: boolean;
  supplementalGroups?: number[];
  noNewPrivs?: boolean;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  seccomp?: CriSecurityProfile;
  apparmor?: CriSecurityProfile;
}

export interface CriLinuxContainerConfig {
  resources?: CriLinuxContainerResources;
  securityContext?: CriLinuxContainerSecurityContext;
}

export interface CriContainerMetadata {
  name: string;
  attempt?: number;
}

export interface CriDevice {
  containerPath: string;
  hostPath: string;
  permissions: string;
}

export interface CriContainerConfig {
  metadata: CriContainerMetadata;
  image: CriImageSpec;
  command?: string[];
  args?: string[];
  workingDir?: string;
  envs?: CriKeyValue[];
  mounts?: CriMount[];
  devices?: CriDevice[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  logPath?: string;
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
  linux?: CriLinuxContainerConfig;
}

export interface CriContainerFilter {
  id?: string;
  state?: { state: CriContainerState };
  podSandboxId?: string;
  labelSelector?: Record<string, string>;
}

export interface CriContainer {
  id: string;
  podSandboxId: string;
  metadata?: CriContainerMetadata;
  image?: CriImageSpec;
  imageRef: string;
  state: CriContainerState;
  createdAt: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  imageId: string;
}

export interface CriContainerStatus {
  id: string;
  metadata?: CriContainerMetadata;
  state: CriContainerState;
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  image?: CriImageSpec;
  imageRef: string;
  reason: string;
  message: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  mounts: CriMount[];
  logPath: string;
  imageId: string;
}

export interface CriContainerStatusResponse {
  status?: CriContainerStatus;
  info: Record<string, string>;
}

export interface CriExecSyncResponse {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number;
}

export interface CriExecRequest {
  containerId: string;
  cmd: string[];
  tty?: boolean;
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
}

export interface CriAttachRequest {
  containerId: string;
  stdin?: boolean;
  tty?: boolean;
  stdout?: boolean;
  stderr?: boolean;
}

export interface CriImage {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: number;
  uid?: CriInt64Value;
  username: string;
  spec?: CriImageSpec;
  pinned: boolean;
}

export interface CriAuthConfig {
  username?: string;
  password?: string;
  auth?: string;
  serverAddress?: string;
  identityToken?: string;
  registryToken?: string;
}

export interface CriRuntimeCondition {
  type: string;
  status: boolean;
  reason: string;
  message: string;
}

export interface CriStatusResponse {
  status?: { conditions: CriRuntimeCondition[] };
  info: Record<string, string>;
}
