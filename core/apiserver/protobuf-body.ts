/** Adapts core/protobuf to the request-body decoder: Kubernetes protobuf → the JSON object. */
import { errors } from '../api/status.ts';
import { decodeProtobufAs, ProtobufDecodeError } from '../protobuf/decode.ts';
import type { ProtobufDecoder } from './body.ts';

export const protobufDecoder: ProtobufDecoder = (body, expected) => {
  try {
    return decodeProtobufAs(body, expected.apiVersion, expected.kind).object;
  } catch (e) {
    if (e instanceof ProtobufDecodeError) {
      const version = expected.apiVersion.split('/').pop();
      throw errors.badRequest(
        `${expected.kind} in version "${version}" cannot be handled as a ${expected.kind}: ${e.message}`,
      );
    }
    throw e;
  }
};
