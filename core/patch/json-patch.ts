/** RFC 6902 JSON Patch (fast-json-patch), with kube-apiserver's error mapping. */
import fjp, { type Operation } from 'fast-json-patch';
import { errors, StatusError } from '../api/status.ts';
import { deepCopy } from '../api/object.ts';

const OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

export function jsonPatch(doc: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch))
    throw errors.badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  for (const op of patch) {
    if (typeof op !== 'object' || op === null || Array.isArray(op))
      throw errors.badRequest('json: cannot unmarshal non-object into Go value of type jsonpatch.Operation');
    const o = op as Record<string, unknown>;
    if (typeof o['op'] !== 'string' || !OPS.has(o['op']))
      throw unprocessable(`Unexpected kind: ${String(o['op'])}`);
    if (typeof o['path'] !== 'string') throw unprocessable(`operation missing path`);
    if ((o['op'] === 'move' || o['op'] === 'copy') && typeof o['from'] !== 'string')
      throw unprocessable('operation missing from');
  }
  try {
    return fjp.applyPatch(deepCopy(doc) as object, patch as Operation[], true, true).newDocument;
  } catch (e) {
    if (e instanceof StatusError) throw e;
    const name = (e as { name?: string }).name ?? '';
    if (name === 'TEST_OPERATION_FAILED')
      throw unprocessable(`testing value ${describe(e)} failed: test failed`);
    throw unprocessable(e instanceof Error ? e.message.split('\n')[0]! : String(e));
  }
}

function describe(e: unknown): string {
  const op = (e as { operation?: { path?: string } }).operation;
  return op?.path ?? '';
}

/** JSON patch application errors are 422 (NewGenericServerResponse(422, …)) in kube-apiserver. */
function unprocessable(message: string): StatusError {
  return new StatusError(422, 'Invalid', message, { causes: [{ message }] });
}
