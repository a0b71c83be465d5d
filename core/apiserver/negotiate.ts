/** Content negotiation: what the client accepts and what it sent. */

export interface AcceptedMedia {
  /** meta.k8s.io Table requested (kubectl get). */
  table: boolean;
  /** Aggregated discovery version requested, if any. */
  discovery?: 'v2' | 'v2beta1';
  /** PartialObjectMetadata(List) requested. */
  partialMetadata: boolean;
}

interface MediaRange {
  type: string;
  params: Record<string, string>;
}

export function parseAccept(accept: string | undefined): MediaRange[] {
  if (!accept) return [];
  return accept
    .split(',')
    .map((part) => {
      const [type, ...ps] = part.split(';').map((s) => s.trim());
      const params: Record<string, string> = {};
      for (const p of ps) {
        const i = p.indexOf('=');
        if (i > 0) params[p.slice(0, i).trim()] = p.slice(i + 1).trim();
      }
      return { type: (type ?? '').toLowerCase(), params };
    })
    .filter((m) => m.type);
}

/** Decide the response form for a resource GET/LIST from the Accept header (first acceptable wins). */
export function negotiateResource(accept: string | undefined): AcceptedMedia {
  for (const m of parseAccept(accept)) {
    if (
      m.params['as'] === 'Table' &&
      m.params['g'] === 'meta.k8s.io' &&
      (m.params['v'] === 'v1' || m.params['v'] === 'v1beta1')
    )
      return { table: true, partialMetadata: false };
    if (
      (m.params['as'] === 'PartialObjectMetadata' || m.params['as'] === 'PartialObjectMetadataList') &&
      m.params['g'] === 'meta.k8s.io'
    )
      return { table: false, partialMetadata: true };
    if (!m.params['as'] && isJsonish(m.type)) return { table: false, partialMetadata: false };
  }
  return { table: false, partialMetadata: false };
}

/** Aggregated discovery: v2 if offered, else v2beta1 if offered, else legacy — in the client's order. */
export function negotiateDiscovery(accept: string | undefined): 'v2' | 'v2beta1' | undefined {
  for (const m of parseAccept(accept)) {
    if (m.params['g'] === 'apidiscovery.k8s.io' && m.params['as'] === 'APIGroupDiscoveryList') {
      if (m.params['v'] === 'v2') return 'v2';
      if (m.params['v'] === 'v2beta1') return 'v2beta1';
    }
    if (!m.params['as'] && isJsonish(m.type)) return undefined;
  }
  return undefined;
}

function isJsonish(t: string): boolean {
  return (
    t === 'application/json' ||
    t === '*/*' ||
    t === 'application/*' ||
    t === 'application/vnd.kubernetes.protobuf' ||
    t === 'application/yaml'
  );
}

export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}
