/**
 * The scheduler verdict's numbers for people: cpu comes in millicores, memory and storage in bytes,
 * anything else as a count (pods, extended resources).
 */
const BINARY = ['Ki', 'Mi', 'Gi', 'Ti', 'Pi'];

export function formatResource(resource: string, value: number): string {
  if (resource === 'cpu') return value % 1000 === 0 ? String(value / 1000) : `${value}m`;
  if (resource === 'memory' || resource.endsWith('storage')) {
    let v = value;
    let unit = '';
    for (const u of BINARY) {
      if (v < 1024 || v % 1024 !== 0) break;
      v /= 1024;
      unit = u;
    }
    return `${v}${unit}`;
  }
  return String(value);
}
