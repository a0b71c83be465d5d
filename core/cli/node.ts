/**
 * `berth node ls|add|rm|stop|start` (DESIGN.md §3): manage the worker nodes of the running cluster of a
 * data dir, through its control channel.
 */
import { commonOptions, dataDirFrom, parse } from './args.ts';
import { UsageError } from './usage-error.ts';
import { controlRequest } from './control-client.ts';
import type { ControlNode, NodeAddRequest } from '../cluster/control.ts';
import type { NodeTaintSpec } from '../nodes/driver.ts';

export const NODE_USAGE = `berth node ls [--data-dir D]
  berth node add [NAME] [--cpu C] [--memory M] [--label k=v]… [--taint k=v:Effect]… [--data-dir D]
  berth node rm NAME [--data-dir D]
  berth node stop NAME [--data-dir D]       heartbeats stop: NotReady after the grace period
  berth node start NAME [--data-dir D]`;

/** Parses `k=v` (repeated --label). */
export function parseLabels(items: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const it of items) {
    const i = it.indexOf('=');
    if (i <= 0) throw new UsageError(`--label must be key=value, got "${it}"`);
    out[it.slice(0, i)] = it.slice(i + 1);
  }
  return out;
}

/** Parses kubectl's taint syntax `key[=value]:Effect` (repeated --taint). */
export function parseTaint(s: string): NodeTaintSpec {
  const colon = s.lastIndexOf(':');
  const effect = colon >= 0 ? s.slice(colon + 1) : '';
  const kv = colon >= 0 ? s.slice(0, colon) : s;
  if (!kv || !['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(effect))
    throw new UsageError(
      `--taint must be key[=value]:Effect with Effect NoSchedule, PreferNoSchedule or NoExecute, got "${s}"`,
    );
  const eq = kv.indexOf('=');
  const key = eq >= 0 ? kv.slice(0, eq) : kv;
  const value = eq >= 0 ? kv.slice(eq + 1) : '';
  return { key, ...(value ? { value } : {}), effect: effect as NodeTaintSpec['effect'] };
}

const readyText = (n: ControlNode): string =>
  n.ready === undefined ? 'Registering' : n.ready === 'True' ? 'Ready' : 'NotReady';

/** The `berth node ls` table. */
export function formatNodes(nodes: ControlNode[]): string {
  const rows = [
    ['NAME', 'STATUS', 'STATE', 'DRIVER', 'INTERNAL-IP', 'POD-CIDR'],
    ...nodes.map((n) => [n.name, readyText(n), n.state, n.driver, n.internalIP ?? '-', n.podCIDR ?? '-']),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('   ')
        .trimEnd(),
    )
    .join('\n');
}

function oneName(positionals: string[], verb: string): string {
  if (positionals.length !== 1) throw new UsageError(`berth node ${verb} takes one node name`);
  return positionals[0]!;
}

export async function runNode(args: string[], print: (line: string) => void = console.log): Promise<void> {
  const [verb, ...rest] = args;
  const nodePath = (name: string): string => `/v1/nodes/${encodeURIComponent(name)}`;
  switch (verb) {
    case 'ls':
    case 'list': {
      const { values, positionals } = parse(rest, commonOptions);
      if (positionals.length) throw new UsageError('berth node ls takes no arguments');
      const { nodes } = await controlRequest<{ nodes: ControlNode[] }>(dataDirFrom(values), {
        method: 'GET',
        path: '/v1/nodes',
      });
      print(nodes.length ? formatNodes(nodes) : 'no nodes');
      return;
    }
    case 'add': {
      const { values, positionals } = parse(rest, {
        ...commonOptions,
        cpu: { type: 'string' },
        memory: { type: 'string' },
        label: { type: 'string', multiple: true },
        taint: { type: 'string', multiple: true },
      });
      if (positionals.length > 1) throw new UsageError('berth node add takes at most one node name');
      const req: NodeAddRequest = {
        ...(positionals[0] !== undefined ? { name: positionals[0] } : {}),
        ...(values.cpu !== undefined ? { cpu: values.cpu } : {}),
        ...(values.memory !== undefined ? { memory: values.memory } : {}),
        ...(values.label?.length ? { labels: parseLabels(values.label) } : {}),
        ...(values.taint?.length ? { taints: values.taint.map(parseTaint) } : {}),
      };
      const { node } = await controlRequest<{ node: ControlNode }>(dataDirFrom(values), {
        method: 'POST',
        path: '/v1/nodes',
        body: req,
      });
      print(
        `node "${node.name}" added (${node.driver}${node.driver === 'simulated' ? ': no containers run' : ''})`,
      );
      return;
    }
    case 'rm':
    case 'remove': {
      const { values, positionals } = parse(rest, commonOptions);
      const name = oneName(positionals, 'rm');
      await controlRequest(dataDirFrom(values), { method: 'DELETE', path: nodePath(name) });
      print(`node "${name}" removed`);
      return;
    }
    case 'stop':
    case 'start': {
      const { values, positionals } = parse(rest, commonOptions);
      const name = oneName(positionals, verb);
      await controlRequest(dataDirFrom(values), { method: 'POST', path: `${nodePath(name)}/${verb}` });
      print(
        verb === 'stop'
          ? `node "${name}" stopped: its heartbeats stopped, so the node controller marks it NotReady once the node monitor grace period (40 s) passes`
          : `node "${name}" started`,
      );
      return;
    }
    default:
      throw new UsageError(
        verb === undefined ? 'berth node needs a subcommand' : `unknown node subcommand "${verb}"`,
      );
  }
}
