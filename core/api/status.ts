/**
 * Kubernetes Status errors with the reasons, codes and message formats of
 * k8s.io/apimachinery/pkg/api/errors. Every error a client sees is one of these.
 */
import { type FieldError, fieldErrorBody, fieldErrorString } from './field-errors.ts';

export type StatusReason =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'BadRequest'
  | 'Forbidden'
  | 'Unauthorized'
  | 'MethodNotAllowed'
  | 'Gone'
  | 'Expired'
  | 'TooManyRequests'
  | 'InternalError'
  | 'UnsupportedMediaType'
  | 'NotAcceptable'
  | 'RequestEntityTooLarge'
  | 'Timeout'
  | 'ServiceUnavailable'
  | '';

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never> | { resourceVersion?: string };
  status: 'Success' | 'Failure';
  message?: string;
  reason?: StatusReason;
  details?: StatusDetails;
  code: number;
}

/** A thrown error that carries the Status to send. */
export class StatusError extends Error {
  readonly status: Status;
  /** Extra HTTP headers to send with it (e.g. Retry-After). */
  readonly headers: Record<string, string>;
  constructor(code: number, reason: StatusReason, message: string, details?: StatusDetails, headers = {}) {
    super(message);
    this.name = 'StatusError';
    this.status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      ...(details ? { details } : {}),
      code,
    };
    this.headers = headers;
  }
  get code(): number {
    return this.status.code;
  }
  get reason(): StatusReason {
    return this.status.reason ?? '';
  }
}

export function isStatusError(e: unknown): e is StatusError {
  return e instanceof StatusError;
}

/** A group-qualified resource, printed "resource.group" (or "resource" for the core group). */
export interface GroupResource {
  group: string;
  resource: string;
}
export const qualified = (gr: GroupResource): string =>
  gr.group ? `${gr.resource}.${gr.group}` : gr.resource;

export function successStatus(details?: StatusDetails): Status {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    ...(details ? { details } : {}),
    code: 200,
  };
}

export const errors = {
  notFound(gr: GroupResource, name: string): StatusError {
    return new StatusError(404, 'NotFound', `${qualified(gr)} "${name}" not found`, {
      name,
      group: gr.group,
      kind: gr.resource,
    });
  },
  /** An unknown URL: Kubernetes' generic 404. */
  pathNotFound(): StatusError {
    return new StatusError(404, 'NotFound', 'the server could not find the requested resource', {});
  },
  alreadyExists(gr: GroupResource, name: string): StatusError {
    return new StatusError(409, 'AlreadyExists', `${qualified(gr)} "${name}" already exists`, {
      name,
      group: gr.group,
      kind: gr.resource,
    });
  },
  conflict(gr: GroupResource, name: string, why: string): StatusError {
    return new StatusError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${qualified(gr)} "${name}": ${why}`,
      {
        name,
        group: gr.group,
        kind: gr.resource,
      },
    );
  },
  /** The optimistic-concurrency conflict message. */
  modified(gr: GroupResource, name: string): StatusError {
    return errors.conflict(
      gr,
      name,
      'the object has been modified; please apply your changes to the latest version and try again',
    );
  },
  invalid(group: string, kind: string, name: string, errs: FieldError[]): StatusError {
    const qk = group ? `${kind}.${group}` : kind;
    const joined =
      errs.length === 1 ? fieldErrorString(errs[0]!) : `[${errs.map(fieldErrorString).join(', ')}]`;
    return new StatusError(422, 'Invalid', `${qk} "${name}" is invalid: ${joined}`, {
      name,
      group,
      kind,
      causes: errs.map((e) => ({ reason: e.type, message: fieldErrorBody(e), field: e.field })),
    });
  },
  badRequest(message: string, causes?: StatusCause[]): StatusError {
    return new StatusError(400, 'BadRequest', message, causes ? { causes } : undefined);
  },
  forbidden(gr: GroupResource, name: string, why: string): StatusError {
    const what = name ? `${qualified(gr)} "${name}"` : qualified(gr);
    return new StatusError(403, 'Forbidden', `${what} is forbidden: ${why}`, {
      ...(name ? { name } : {}),
      group: gr.group,
      kind: gr.resource,
    });
  },
  /** Forbidden for a non-resource URL, e.g. `forbidden: User "x" cannot get path "/foo"`. */
  forbiddenPath(why: string): StatusError {
    return new StatusError(403, 'Forbidden', `forbidden: ${why}`, {});
  },
  unauthorized(message = 'Unauthorized'): StatusError {
    return new StatusError(401, 'Unauthorized', message);
  },
  methodNotSupported(gr: GroupResource, action: string): StatusError {
    return new StatusError(
      405,
      'MethodNotAllowed',
      `${action} is not supported on resources of kind "${qualified(gr)}"`,
      { group: gr.group, kind: gr.resource },
    );
  },
  gone(message: string): StatusError {
    return new StatusError(410, 'Gone', message);
  },
  /** 410 Expired: too old resource version / expired continue token. */
  expired(message: string): StatusError {
    return new StatusError(410, 'Expired', message);
  },
  tooManyRequests(message: string, retryAfterSeconds: number): StatusError {
    return new StatusError(
      429,
      'TooManyRequests',
      message,
      { retryAfterSeconds },
      { 'Retry-After': String(retryAfterSeconds) },
    );
  },
  internal(err: unknown): StatusError {
    const msg = err instanceof Error ? err.message : String(err);
    return new StatusError(500, 'InternalError', `Internal error occurred: ${msg}`, {
      causes: [{ message: msg }],
    });
  },
  unsupportedMediaType(contentType: string, accepted: readonly string[]): StatusError {
    return new StatusError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
      {
        causes: [
          {
            reason: 'UnexpectedHeader',
            message: `unsupported media type "${contentType}"`,
            field: 'Content-Type',
          },
        ],
      },
    );
  },
  notAcceptable(accepted: readonly string[]): StatusError {
    return new StatusError(
      406,
      'NotAcceptable',
      `only the following media types are accepted: ${accepted.join(', ')}`,
    );
  },
  tooLarge(limit: string): StatusError {
    return new StatusError(413, 'RequestEntityTooLarge', `Request entity too large: ${limit}`);
  },
  timeout(message: string): StatusError {
    return new StatusError(504, 'Timeout', message);
  },
};
