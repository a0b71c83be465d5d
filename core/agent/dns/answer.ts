/**
 * Answers a question about the cluster zone from a ZoneIndex, as CoreDNS's kubernetes plugin does:
 * records of the asked type (ANY: all); a CNAME (ExternalName) answered for any other type, followed
 * inside the zone, or handed back to be looked up upstream (`chase`); SRV answers carry their targets'
 * addresses as additionals; a name that exists without records of the type → NOERROR with the SOA
 * (NODATA); an unknown name → NXDOMAIN with the SOA. Pod names `a-b-c-d.ns.pod.<zone>` are answered
 * from the name itself (pods "insecure"). Reverse names of addresses in the cluster's ranges are ours;
 * every other name is not (`forward`).
 */
import { BlockList, isIPv4 } from 'node:net';
import type { Answer, SoaAnswer } from 'dns-packet';
import { canonical, inZone, ipOfDashed, ipOfReverseName, labelsAbove } from './names.ts';
import type { ZoneIndex, ZoneSettings } from './zone.ts';

export interface AnswerSettings extends ZoneSettings {
  /** Ranges whose reverse names this server owns (service CIDR, pod CIDR). */
  reverseCIDRs: string[];
}

export type Resolution =
  | { kind: 'forward' }
  | {
      kind: 'answer';
      rcode: 'NOERROR' | 'NXDOMAIN';
      answers: Answer[];
      authorities: Answer[];
      additionals: Answer[];
      /** An external CNAME target whose records of the asked type should follow the CNAME. */
      chase?: string;
    };

const MAX_CNAME_HOPS = 8;

function blockOf(cidrs: string[]): BlockList {
  const b = new BlockList();
  for (const c of cidrs) {
    const [net = '', bits = ''] = c.split('/');
    b.addSubnet(net, Number(bits), isIPv4(net) ? 'ipv4' : 'ipv6');
  }
  return b;
}

export class ClusterZone {
  readonly domain: string;
  private readonly reverse: BlockList;
  private readonly serial = Math.floor(Date.now() / 1000);

  constructor(
    private readonly settings: AnswerSettings,
    private readonly index: () => ZoneIndex,
  ) {
    this.domain = canonical(settings.domain);
    this.reverse = blockOf(settings.reverseCIDRs);
  }

  /** The zone a name belongs to, when it is ours. */
  zoneOf(name: string): string | undefined {
    if (inZone(name, this.domain)) return this.domain;
    for (const z of ['in-addr.arpa', 'ip6.arpa']) {
      if (!name.endsWith(`.${z}`)) continue;
      const ip = ipOfReverseName(name);
      if (ip && this.reverse.check(ip, isIPv4(ip) ? 'ipv4' : 'ipv6')) return z;
    }
    return undefined;
  }

  soa(zone: string): SoaAnswer {
    return {
      name: zone,
      type: 'SOA',
      ttl: this.settings.ttl,
      class: 'IN',
      data: {
        mname: `ns.dns.${this.domain}`,
        rname: `hostmaster.${this.domain}`,
        serial: this.serial,
        refresh: 7200,
        retry: 1800,
        expire: 86400,
        minimum: this.settings.ttl,
      },
    };
  }

  /** `type` is the record type's name ("A", "SRV", "ANY", …). */
  resolve(q: { name: string; type: string }): Resolution {
    const name = canonical(q.name);
    const zone = this.zoneOf(name);
    if (!zone) return { kind: 'forward' };
    const idx = this.index();
    const answers: Answer[] = [];
    let current = name;
    for (let hop = 0; hop < MAX_CNAME_HOPS; hop++) {
      const found = this.lookup(idx, current, q.type, zone);
      if (found === 'nxdomain' || found === 'nodata') {
        if (answers.length > 0) break; // the CNAME stands; its target has nothing of this type
        return {
          kind: 'answer',
          rcode: found === 'nxdomain' ? 'NXDOMAIN' : 'NOERROR',
          answers: [],
          authorities: [this.soa(zone)],
          additionals: [],
        };
      }
      answers.push(...found);
      const cname = found.length === 1 && found[0]?.type === 'CNAME' ? found[0].data : undefined;
      if (!cname || q.type === 'CNAME') break;
      if (this.zoneOf(cname) !== zone)
        return { kind: 'answer', rcode: 'NOERROR', answers, authorities: [], additionals: [], chase: cname };
      current = cname;
    }
    return {
      kind: 'answer',
      rcode: 'NOERROR',
      answers,
      authorities: [],
      additionals: this.extras(idx, answers),
    };
  }

  /** Records of `name` answering `type` (a lone CNAME answers every type), or why there are none. */
  private lookup(idx: ZoneIndex, name: string, type: string, zone: string): Answer[] | 'nxdomain' | 'nodata' {
    if (name === zone) {
      if (type === 'SOA' || type === 'ANY') return [this.soa(zone)];
      if (type === 'NS' && zone === this.domain)
        return [{ name, type: 'NS', ttl: this.settings.ttl, class: 'IN', data: `ns.dns.${this.domain}` }];
      return 'nodata';
    }
    const pod = zone === this.domain ? this.podRecord(name, type) : undefined;
    if (pod) return pod;
    const records = idx.records.get(name);
    if (!records) return idx.parents.has(name) ? 'nodata' : 'nxdomain';
    const cname = records.find((r) => r.type === 'CNAME');
    if (cname && type !== 'CNAME' && type !== 'ANY') return [cname];
    const out = records.filter((r) => type === 'ANY' || r.type === type);
    return out.length > 0 ? out : 'nodata';
  }

  /** `a-b-c-d.ns.pod.<zone>` (and the names above it), or undefined when `name` is not under pod. */
  private podRecord(name: string, type: string): Answer[] | 'nxdomain' | 'nodata' | undefined {
    const labels = labelsAbove(name, this.domain);
    if (labels[labels.length - 1] !== 'pod') return undefined;
    if (labels.length < 3) return 'nodata';
    const ip = labels.length === 3 && labels[0] ? ipOfDashed(labels[0]) : undefined;
    if (!ip) return 'nxdomain';
    const rtype = isIPv4(ip) ? 'A' : 'AAAA';
    if (type !== rtype && type !== 'ANY') return 'nodata';
    return [{ name, type: rtype, ttl: this.settings.ttl, class: 'IN', data: ip }];
  }

  /** Addresses of SRV and NS targets, as additionals. */
  private extras(idx: ZoneIndex, answers: Answer[]): Answer[] {
    const targets = new Set<string>();
    for (const a of answers) {
      if (a.type === 'SRV') targets.add(a.data.target);
      if (a.type === 'NS') targets.add(a.data);
    }
    return [...targets].flatMap((t) =>
      (idx.records.get(t) ?? []).filter((r) => r.type === 'A' || r.type === 'AAAA'),
    );
  }
}
