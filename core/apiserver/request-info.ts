/**
 * Turns a request path into Kubernetes' RequestInfo (k8s.io/apiserver/pkg/endpoints/request):
 *   /api/v1/namespaces/{ns}/{resource}/{name}/{subresource}
 *   /apis/{group}/{version}/...
 * and the verb (get/list/watch/create/update/patch/delete/deletecollection).
 */
export interface RequestInfo {
  isResourceRequest: boolean;
  path: string;
  verb: string;
  apiPrefix: 'api' | 'apis' | '';
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  parts: string[];
}

/**
 * A boolean query parameter as Kubernetes parses it (runtime.Convert_Slice_string_To_bool): present and
 * not "false"/"0" (any case) means true — so `watch=True` and `watch=1` watch.
 */
export function boolParam(q: URLSearchParams, name: string): boolean {
  const v = q.getAll(name);
  if (!v.length) return false;
  const first = (v[0] ?? '').toLowerCase();
  return first !== 'false' && first !== '0';
}

export function parseRequestInfo(method: string, pathname: string, query: URLSearchParams): RequestInfo {
  const info: RequestInfo = {
    isResourceRequest: false,
    path: pathname,
    verb: method.toLowerCase(),
    apiPrefix: '',
    apiGroup: '',
    apiVersion: '',
    namespace: '',
    resource: '',
    subresource: '',
    name: '',
    parts: [],
  };
  const segs = pathname.split('/').filter((s) => s !== '');
  const nonResourceVerb = method === 'GET' || method === 'HEAD' ? 'get' : method.toLowerCase();
  info.verb = nonResourceVerb;
  if (segs[0] !== 'api' && segs[0] !== 'apis') return info;
  info.apiPrefix = segs[0];
  let rest = segs.slice(1);
  if (info.apiPrefix === 'apis') {
    if (rest.length < 2) return info; // /apis or /apis/{group}: discovery
    info.apiGroup = rest[0]!;
    info.apiVersion = rest[1]!;
    rest = rest.slice(2);
  } else {
    if (rest.length < 1) return info; // /api: discovery
    info.apiVersion = rest[0]!;
    rest = rest.slice(1);
  }
  if (rest.length === 0) return info; // group-version discovery
  info.isResourceRequest = true;

  // Namespaced paths: namespaces/{ns}/{resource}... except /namespaces/{name} itself (and its subresources).
  if (rest[0] === 'namespaces' && rest.length >= 2) {
    info.namespace = rest[1]!;
    if (rest.length >= 3) rest = rest.slice(2);
    else {
      // /namespaces/{name}: the namespace object itself.
      info.namespace = '';
      info.resource = 'namespaces';
      info.name = rest[1]!;
      rest = [];
    }
  }
  if (rest.length) {
    info.resource = rest[0]!;
    if (rest.length >= 2) info.name = rest[1]!;
    if (rest.length >= 3) info.subresource = rest[2]!;
    info.parts = rest;
    if (info.resource === 'namespaces' && info.name) {
      // /api/v1/namespaces/{name}/status|finalize
      info.namespace = '';
    }
  }
  // Namespace subresources: /api/v1/namespaces/{ns}/status and /finalize
  if (info.namespace && !info.name && (info.resource === 'status' || info.resource === 'finalize')) {
    info.subresource = info.resource;
    info.name = info.namespace;
    info.resource = 'namespaces';
    info.namespace = '';
  }

  const isWatch = boolParam(query, 'watch');
  switch (method) {
    case 'POST':
      info.verb = 'create';
      break;
    case 'GET':
    case 'HEAD':
      info.verb = info.name ? 'get' : isWatch ? 'watch' : 'list';
      if (info.name && isWatch) info.verb = 'watch';
      break;
    case 'PUT':
      info.verb = 'update';
      break;
    case 'PATCH':
      info.verb = 'patch';
      break;
    case 'DELETE':
      info.verb = info.name ? 'delete' : 'deletecollection';
      break;
    default:
      info.verb = method.toLowerCase();
  }
  return info;
}
