/** Decoding request bodies: JSON, YAML and Kubernetes protobuf (kubectl 1.32+ typed clients). */
import { parse as parseYaml } from 'yaml';
import { errors } from '../api/status.ts';
import { isPlainObject } from '../api/object.ts';
import { mediaType } from './negotiate.ts';

/** Decodes a Kubernetes protobuf body to its JSON object, given the kind the endpoint expects. */
export type ProtobufDecoder = (
  body: Buffer,
  expected: { apiVersion: string; kind: string },
) => Record<string, unknown>;

export const ACCEPTED_BODY_TYPES = [
  'application/json',
  'application/yaml',
  'application/vnd.kubernetes.protobuf',
];

export function decodeBody(
  body: Buffer,
  contentType: string | undefined,
  expected: { apiVersion: string; kind: string },
  protobuf?: ProtobufDecoder,
): Record<string, unknown> {
  const type = mediaType(contentType) || 'application/json';
  let value: unknown;
  if (
    type === 'application/json' ||
    type === 'application/yaml' ||
    type === 'text/yaml' ||
    type === 'application/x-yaml'
  ) {
    const text = body.toString('utf8');
    if (text.trim() === '') throw errors.badRequest("Object 'Kind' is missing in ''");
    try {
      value =
        type === 'application/json' ? JSON.parse(text) : parseYaml(text, { strict: true, uniqueKeys: true });
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw errors.badRequest(
        `${expected.kind} in version "${expected.apiVersion.split('/').pop()}" cannot be handled as a ${expected.kind}: ${type === 'application/json' ? 'json' : 'yaml'}: ${msg}`,
      );
    }
  } else if (type === 'application/vnd.kubernetes.protobuf') {
    if (!protobuf) throw errors.unsupportedMediaType(type, ACCEPTED_BODY_TYPES);
    try {
      value = protobuf(body, expected);
    } catch (e) {
      if (e instanceof Error && e.name === 'StatusError') throw e;
      throw errors.badRequest(
        `${expected.kind} in version "${expected.apiVersion.split('/').pop()}" cannot be handled as a ${expected.kind}: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  } else {
    throw errors.unsupportedMediaType(type, ACCEPTED_BODY_TYPES);
  }
  if (!isPlainObject(value))
    throw errors.badRequest(
      `${expected.kind} in version "${expected.apiVersion.split('/').pop()}" cannot be handled as a ${expected.kind}: body must be an object`,
    );
  return value;
}

/** Parse a patch document (JSON for the JSON/merge/strategic types, YAML for apply). */
export function decodePatch(body: Buffer, patchType: string): unknown {
  const text = body.toString('utf8');
  try {
    return patchType === 'application/apply-patch+yaml'
      ? parseYaml(text, { strict: true, uniqueKeys: true })
      : JSON.parse(text);
  } catch (e) {
    throw errors.badRequest(`error decoding patch: ${e instanceof Error ? e.message : String(e)}`);
  }
}
