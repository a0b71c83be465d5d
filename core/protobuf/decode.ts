// Entry points: decode an `application/vnd.kubernetes.protobuf` request body (kubectl 1.32+ typed
// clients, see docs kubectl-compat §11) into the JSON object the same command would have sent as JSON.

import { decodeEnvelope, PROTOBUF_CONTENT_TYPE } from './envelope.ts';
import type { PackageFacts } from './facts.ts';
import { ProtobufDecodeError, Schema } from './wire.ts';
import { appsV1 } from './types/apps-v1.ts';
import { authenticationV1 } from './types/authentication-v1.ts';
import { authenticationV1beta1 } from './types/authentication-v1beta1.ts';
import { authorizationV1 } from './types/authorization-v1.ts';
import { autoscalingV1 } from './types/autoscaling-v1.ts';
import { autoscalingV2 } from './types/autoscaling-v2.ts';
import { batchV1 } from './types/batch-v1.ts';
import { certificatesV1 } from './types/certificates-v1.ts';
import { coordinationV1 } from './types/coordination-v1.ts';
import { coreV1 } from './types/core-v1.ts';
import { metaV1 } from './types/meta.ts';
import { networkingV1 } from './types/networking-v1.ts';
import { policyV1 } from './types/policy-v1.ts';
import { rbacV1 } from './types/rbac-v1.ts';
import { schedulingV1 } from './types/scheduling-v1.ts';

export { ProtobufDecodeError } from './wire.ts';
export { hasProtobufMagic, PROTOBUF_CONTENT_TYPE, PROTOBUF_MAGIC } from './envelope.ts';

export const PACKAGES: readonly PackageFacts[] = [
  metaV1,
  coreV1,
  appsV1,
  batchV1,
  rbacV1,
  networkingV1,
  policyV1,
  autoscalingV1,
  autoscalingV2,
  authorizationV1,
  authenticationV1,
  authenticationV1beta1,
  certificatesV1,
  schedulingV1,
  coordinationV1,
];

export const schema = new Schema(PACKAGES);

/**
 * The option kinds apimachinery registers in every group version (metav1.AddToGroupVersion), so a
 * typed client encodes e.g. DeleteOptions with typeMeta {apiVersion: "v1" | "policy/v1", kind: "DeleteOptions"}.
 */
const META_OPTION_KINDS = new Set(['DeleteOptions', 'CreateOptions', 'UpdateOptions', 'PatchOptions']);

function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf('/');
  return i < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

/** The qualified message name for group/version/kind, or undefined when we have no facts for it. */
export function messageFor(apiVersion: string, kind: string): string | undefined {
  const { group, version } = splitApiVersion(apiVersion);
  const pkg = PACKAGES.find((p) => p.group === group && p.version === version);
  if (pkg && Object.hasOwn(pkg.messages, kind)) return `${pkg.pkg}.${kind}`;
  if (META_OPTION_KINDS.has(kind)) return `meta.v1.${kind}`;
  return undefined;
}

/** Whether a protobuf body of this group/version/kind can be decoded. */
export function canDecodeProtobuf(apiVersion: string, kind: string): boolean {
  return messageFor(apiVersion, kind) !== undefined;
}

export interface DecodedProtobuf {
  apiVersion: string;
  kind: string;
  object: Record<string, unknown>;
}

function decodeRaw(raw: Uint8Array, apiVersion: string, kind: string): Record<string, unknown> {
  const message = messageFor(apiVersion, kind);
  if (!message)
    throw new ProtobufDecodeError(
      `protobuf decoding of ${apiVersion ? `${apiVersion}, ` : ''}Kind=${kind} is not supported`,
    );
  const body = schema.decode(raw, message) as Record<string, unknown>;
  return { kind, apiVersion, ...body };
}

function checkEncoding(contentEncoding: string, contentType: string): void {
  if (contentEncoding)
    throw new ProtobufDecodeError(`unsupported protobuf contentEncoding "${contentEncoding}"`);
  if (contentType && contentType !== PROTOBUF_CONTENT_TYPE)
    throw new ProtobufDecodeError(`unsupported protobuf contentType "${contentType}"`);
}

/**
 * Decodes a Kubernetes protobuf body whose envelope names its type (what client-go always sends for
 * objects). Returns the JSON object with apiVersion and kind set. Throws ProtobufDecodeError.
 */
export function decodeKubernetesProtobuf(body: Uint8Array): DecodedProtobuf {
  const env = decodeEnvelope(body);
  checkEncoding(env.contentEncoding, env.contentType);
  if (!env.kind || !env.apiVersion) {
    throw new ProtobufDecodeError(
      'protobuf envelope has no apiVersion/kind; the expected type must be given (decodeProtobufAs)',
    );
  }
  return { apiVersion: env.apiVersion, kind: env.kind, object: decodeRaw(env.raw, env.apiVersion, env.kind) };
}

/**
 * Decodes a protobuf body the caller expects to be `apiVersion`/`kind` (e.g. DeleteOptions in a DELETE
 * body). The envelope's typeMeta wins when it is set: a different kind is an error; a different
 * apiVersion is accepted for the meta option kinds (registered in every group version).
 */
export function decodeProtobufAs(body: Uint8Array, apiVersion: string, kind: string): DecodedProtobuf {
  const env = decodeEnvelope(body);
  checkEncoding(env.contentEncoding, env.contentType);
  if (env.kind && env.kind !== kind)
    throw new ProtobufDecodeError(`expected a protobuf ${kind}, got ${env.kind}`);
  let version = env.apiVersion || apiVersion;
  if (env.apiVersion && env.apiVersion !== apiVersion && !messageFor(env.apiVersion, kind))
    version = apiVersion;
  return { apiVersion: version, kind, object: decodeRaw(env.raw, version, kind) };
}

// A RawExtension may carry a nested protobuf object (magic-prefixed); decode it the same way.
schema.nested = (bytes) => decodeKubernetesProtobuf(bytes).object;
