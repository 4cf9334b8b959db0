import type { Command } from 'commander';
import type { InstancesReplyWire, NodesReplyWire } from '../domain/admin-api.types';
import { nodesWithHealth } from '../domain/cluster-views';
import { formatBytes, renderTable } from '../domain/format';
import { action, integerArg, partOf, type CliIo } from './context';

/** The scheduler's bounds on a node's weight (MetadataLimits.nodeWeightMin/Max); the server checks them too. */
const NODE_WEIGHT_MIN = 1;
const NODE_WEIGHT_MAX = 1_000_000;
const CAPACITY_MAX_BYTES = Number.MAX_SAFE_INTEGER;

interface MembershipReplyWire {
  readonly epoch: number;
  readonly sequence?: number;
}

const nodePath = (nodeId: string) => `/admin/nodes/${encodeURIComponent(nodeId)}`;

export function registerNodes(program: Command, io: CliIo): void {
  const nodes = program.command('nodes').description('storage nodes: list, add, drain, remove, weight');

  nodes
    .command('list')
    .description('storage nodes with their health (up/suspected/down), zone, weight, what they hold and whether they can be removed')
    .action(
      action(io, async (ctx) => {
        const [listed, health] = await Promise.allSettled([ctx.admin.get<NodesReplyWire>('scheduler', '/admin/nodes'), ctx.admin.get<InstancesReplyWire>('monitoring', '/cluster/instances')]);
        if (listed.status === 'rejected') throw listed.reason;
        const problems: string[] = [];
        const instances = partOf(health, 'monitoring', problems);
        for (const p of problems) ctx.warn(`node health unknown: ${p}`);
        const rows = nodesWithHealth(listed.value.nodes, instances?.instances ?? null);
        ctx.print(
          () =>
            `ring epoch ${listed.value.epoch}\n${renderTable(
              ['node', 'zone', 'host', 'state', 'weight', 'draining', 'chunks', 'bytes', 'removable', 'address'],
              rows.map((n) => [n.nodeId, n.zone, n.host, n.state, n.weight, n.draining, n.held?.chunks, n.held ? formatBytes(n.held.bytes) : null, n.removable, n.address]),
            )}`,
          { epoch: listed.value.epoch, nodes: rows },
        );
      }),
    );

  nodes
    .command('add <nodeId>')
    .description('add a storage node to the ring; a rebalance starts at once')
    .requiredOption('--address <url>', "where the node's data plane answers, e.g. http://10.0.0.7:9201")
    .requiredOption('--zone <zone>', 'failure zone (replicas spread across zones)')
    .option('--weight <n>', 'share of the data relative to the other nodes', '1')
    .option('--host <host>', 'physical host (replicas avoid sharing one); default: the address host')
    .option('--capacity <bytes>', 'capacity in bytes, for the record')
    .action(
      action(io, async (ctx, nodeId: string, opts: { address: string; zone: string; weight: string; host?: string; capacity?: string }) => {
        const body = {
          nodeId,
          address: opts.address,
          zone: opts.zone,
          weight: integerArg('--weight', opts.weight, NODE_WEIGHT_MIN, NODE_WEIGHT_MAX),
          ...(opts.host ? { host: opts.host } : {}),
          ...(opts.capacity !== undefined ? { capacityBytes: integerArg('--capacity', opts.capacity, 0, CAPACITY_MAX_BYTES) } : {}),
        };
        const reply = await ctx.admin.post<MembershipReplyWire>('scheduler', '/admin/nodes', { body });
        ctx.print(() => `node ${nodeId} added; ring epoch ${reply.epoch} (a rebalance sweep starts now: cairn jobs list)`, { nodeId, ...reply });
      }),
    );

  nodes
    .command('drain <nodeId>')
    .description('drain a node: it takes no new chunks and its chunks move to the others')
    .option('--force', 'drain even if fewer nodes than the replication factor would remain (chunks then keep fewer copies)')
    .action(
      action(io, async (ctx, nodeId: string, opts: { force?: boolean }) => {
        const reply = await ctx.admin.post<MembershipReplyWire>('scheduler', `${nodePath(nodeId)}/drain`, { query: { force: opts.force ? 'true' : undefined } });
        ctx.print(() => `node ${nodeId} draining; ring epoch ${reply.epoch} (remove it once empty: cairn nodes remove ${nodeId})`, { nodeId, ...reply });
      }),
    );

  nodes
    .command('remove <nodeId>')
    .description('remove a drained node once a sweep has seen it empty')
    .option('--force', 'remove even a node that is not drained, cannot be listed (dead) or still holds chunks')
    .action(
      action(io, async (ctx, nodeId: string, opts: { force?: boolean }) => {
        const reply = await ctx.admin.delete<MembershipReplyWire>('scheduler', nodePath(nodeId), { query: { force: opts.force ? 'true' : undefined } });
        ctx.print(() => `node ${nodeId} removed; ring epoch ${reply.epoch}`, { nodeId, ...reply });
      }),
    );

  nodes
    .command('weight <nodeId> <weight>')
    .description("change a node's weight; a rebalance starts at once")
    .action(
      action(io, async (ctx, nodeId: string, weightText: string) => {
        const weight = integerArg('weight', weightText, NODE_WEIGHT_MIN, NODE_WEIGHT_MAX);
        const reply = await ctx.admin.patch<MembershipReplyWire>('scheduler', nodePath(nodeId), { body: { weight } });
        ctx.print(() => `node ${nodeId} weight ${weight}; ring epoch ${reply.epoch}`, { nodeId, weight, ...reply });
      }),
    );
}
