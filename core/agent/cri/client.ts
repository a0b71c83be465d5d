/**
 * A promise-based CRI v1 client over containerd's unix socket: one method per RPC the kubelet uses,
 * a deadline per call, errors as CriError carrying the gRPC status code and message. Messages are
 * (de)serialized with protobufjs from our own proto subset (cri-proto.ts); enums travel as their
 * string names and int64 as numbers.
 */
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { CRI_PROTO } from './cri-proto.ts';
import type {
  CriAttachRequest,
  CriAuthConfig,
  CriContainer,
  CriContainerConfig,
  CriContainerFilter,
  CriContainerStatusResponse,
  CriExecRequest,
  CriExecSyncResponse,
  CriImage,
  CriImageSpec,
  CriPodSandbox,
  CriPodSandboxConfig,
  CriPodSandboxFilter,
  CriPodSandboxStatusResponse,
  CriStatusResponse,
  CriVersionResponse,
} from './types.ts';

export const DEFAULT_CRI_SOCKET = '/run/containerd/containerd.sock';
/** CRI API version the kubelet announces in Version. */
const KUBELET_CRI_VERSION = 'v1';

/** gRPC status codes the kubelet reacts to. */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  UNAVAILABLE: 14,
} as const;

export class CriError extends Error {
  constructor(
    readonly rpc: string,
    readonly code: number,
    readonly details: string,
  ) {
    super(`CRI ${rpc}: ${grpc.status[code] ?? code}: ${details}`);
    this.name = 'CriError';
  }
}

export const isCriNotFound = (e: unknown): boolean => e instanceof CriError && e.code === GrpcCode.NOT_FOUND;

export interface CriClientOptions {
  /** Unix socket path (default /run/containerd/containerd.sock). */
  socket?: string;
  /** Default deadline per call in ms (default 60 s; pulls get 10 min). */
  timeoutMs?: number;
}

type Plain = Record<string, unknown>;

let root: protobuf.Root | undefined;
function criRoot(): protobuf.Root {
  root ??= protobuf.parse(CRI_PROTO, { keepCase: false }).root;
  return root;
}

const TO_OBJECT: protobuf.IConversionOptions = {
  longs: Number,
  enums: String,
  defaults: true,
  arrays: true,
  objects: true,
};

export class CriClient {
  private readonly grpc: grpc.Client;
  private readonly timeoutMs: number;
  readonly socket: string;

  constructor(opts: CriClientOptions = {}) {
    this.socket = opts.socket ?? DEFAULT_CRI_SOCKET;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.grpc = new grpc.Client(`unix://${this.socket}`, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
    });
  }

  close(): void {
    this.grpc.close();
  }

  /** One unary call: `service` is RuntimeService or ImageService, `rpc` the method name. */
  call<T>(
    service: 'RuntimeService' | 'ImageService',
    rpc: string,
    req: Plain,
    timeoutMs?: number,
  ): Promise<T> {
    const r = criRoot();
    const reqType = r.lookupType(`runtime.v1.${rpc}Request`);
    const resType = r.lookupType(`runtime.v1.${rpc}Response`);
    let body: Buffer;
    try {
      // fromObject takes enums by name and checks types; unknown fields are dropped.
      body = Buffer.from(reqType.encode(reqType.fromObject(req)).finish());
    } catch (e) {
      return Promise.reject(
        new CriError(rpc, GrpcCode.INVALID_ARGUMENT, `bad request: ${(e as Error).message}`),
      );
    }
    const deadline = new Date(Date.now() + (timeoutMs ?? this.timeoutMs));
    return new Promise<T>((resolve, reject) => {
      this.grpc.makeUnaryRequest(
        `/runtime.v1.${service}/${rpc}`,
        () => body,
        (b: Buffer) => resType.toObject(resType.decode(b), TO_OBJECT) as T,
        req,
        new grpc.Metadata(),
        { deadline },
        (e, value) => {
          if (e) reject(new CriError(rpc, e.code ?? GrpcCode.UNKNOWN, e.details || e.message));
          else resolve(value as T);
        },
      );
    });
  }

  // ---- RuntimeService ----

  version(): Promise<CriVersionResponse> {
    return this.call('RuntimeService', 'Version', { version: KUBELET_CRI_VERSION });
  }

  status(verbose = false): Promise<CriStatusResponse> {
    return this.call('RuntimeService', 'Status', { verbose });
  }

  async runPodSandbox(config: CriPodSandboxConfig, runtimeHandler = ''): Promise<string> {
    const r = await this.call<{ podSandboxId: string }>(
      'RuntimeService',
      'RunPodSandbox',
      { config, runtimeHandler },
      4 * 60_000,
    );
    return r.podSandboxId;
  }

  async stopPodSandbox(podSandboxId: string): Promise<void> {
    await this.call('RuntimeService', 'StopPodSandbox', { podSandboxId }, 4 * 60_000);
  }

  async removePodSandbox(podSandboxId: string): Promise<void> {
    await this.call('RuntimeService', 'RemovePodSandbox', { podSandboxId }, 4 * 60_000);
  }

  podSandboxStatus(podSandboxId: string, verbose = false): Promise<CriPodSandboxStatusResponse> {
    return this.call('RuntimeService', 'PodSandboxStatus', { podSandboxId, verbose });
  }

  async listPodSandbox(filter?: CriPodSandboxFilter): Promise<CriPodSandbox[]> {
    const r = await this.call<{ items: CriPodSandbox[] }>(
      'RuntimeService',
      'ListPodSandbox',
      filter ? { filter } : {},
    );
    return r.items;
  }

  async createContainer(
    podSandboxId: string,
    config: CriContainerConfig,
    sandboxConfig: CriPodSandboxConfig,
  ): Promise<string> {
    const r = await this.call<{ containerId: string }>(
      'RuntimeService',
      'CreateContainer',
      { podSandboxId, config, sandboxConfig },
      4 * 60_000,
    );
    return r.containerId;
  }

  async startContainer(containerId: string): Promise<void> {
    await this.call('RuntimeService', 'StartContainer', { containerId }, 2 * 60_000);
  }

  /** SIGTERM (or the image's stop signal), SIGKILL after `timeoutSeconds`. */
  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    await this.call(
      'RuntimeService',
      'StopContainer',
      { containerId, timeout: Math.max(0, Math.floor(timeoutSeconds)) },
      (timeoutSeconds + 60) * 1000,
    );
  }

  async removeContainer(containerId: string): Promise<void> {
    await this.call('RuntimeService', 'RemoveContainer', { containerId }, 2 * 60_000);
  }

  async listContainers(filter?: CriContainerFilter): Promise<CriContainer[]> {
    const r = await this.call<{ containers: CriContainer[] }>(
      'RuntimeService',
      'ListContainers',
      filter ? { filter } : {},
    );
    return r.containers;
  }

  containerStatus(containerId: string, verbose = false): Promise<CriContainerStatusResponse> {
    return this.call('RuntimeService', 'ContainerStatus', { containerId, verbose });
  }

  async reopenContainerLog(containerId: string): Promise<void> {
    await this.call('RuntimeService', 'ReopenContainerLog', { containerId });
  }

  /** Runs `cmd` in the container; `timeoutSeconds` 0 = no limit on the runtime side. */
  execSync(containerId: string, cmd: string[], timeoutSeconds = 0): Promise<CriExecSyncResponse> {
    const callMs = timeoutSeconds > 0 ? (timeoutSeconds + 30) * 1000 : 10 * 60_000;
    return this.call('RuntimeService', 'ExecSync', { containerId, cmd, timeout: timeoutSeconds }, callMs);
  }

  /** The streaming server URL of an exec session. */
  async exec(req: CriExecRequest): Promise<string> {
    return (await this.call<{ url: string }>('RuntimeService', 'Exec', { ...req })).url;
  }

  async attach(req: CriAttachRequest): Promise<string> {
    return (await this.call<{ url: string }>('RuntimeService', 'Attach', { ...req })).url;
  }

  async portForward(podSandboxId: string, port: number[]): Promise<string> {
    return (await this.call<{ url: string }>('RuntimeService', 'PortForward', { podSandboxId, port })).url;
  }

  // ---- ImageService ----

  async listImages(filter?: CriImageSpec): Promise<CriImage[]> {
    const r = await this.call<{ images: CriImage[] }>(
      'ImageService',
      'ListImages',
      filter ? { filter: { image: filter } } : {},
    );
    return r.images;
  }

  /** The image, or undefined when the node does not have it. */
  async imageStatus(image: CriImageSpec): Promise<CriImage | undefined> {
    // `defaults` fills an absent message field with null.
    const r = await this.call<{ image: CriImage | null }>('ImageService', 'ImageStatus', { image });
    return r.image ?? undefined;
  }

  /** Pulls the image; resolves with its reference (image id). */
  async pullImage(
    image: CriImageSpec,
    auth?: CriAuthConfig,
    sandboxConfig?: CriPodSandboxConfig,
  ): Promise<string> {
    const req: Plain = { image };
    if (auth) req.auth = auth;
    if (sandboxConfig) req.sandboxConfig = sandboxConfig;
    const r = await this.call<{ imageRef: string }>('ImageService', 'PullImage', req, 10 * 60_000);
    return r.imageRef;
  }

  async removeImage(image: CriImageSpec): Promise<void> {
    await this.call('ImageService', 'RemoveImage', { image });
  }
}
