import type { Command } from 'commander';
import type { RebalancePlanWire } from '../domain/admin-api.types';
import { formatDuration } from '../domain/duration';
import { usageError } from '../domain/exit-codes';
import { formatBytes, formatPercent, formatRate, renderFields, renderTable } from '../domain/format';
import { action, integerArg, type CliIo } from './context';

export const PLAN_CHANGES = ['add', 'remove', 'drain', 'weight'] as const;
const NODE_WEIGHT_MIN = 1;
const NODE_WEIGHT_MAX = 1_000_000;

export function registerPlan(program: Command, io: CliIo): void {
  const plan = program.command('plan').description('what-if planners: see what a change would do before doing it');
  plan
    .command('rebalance <change> <nodeId>')
    .description('the bytes a membership change (add | remove | drain | weight) would move, from where to where, and how long at the repair throttle; nothing moves')
    .option('--zone <zone>', 'zone of an added node')
    .option('--weight <n>', 'weight of an added node, or the new weight')
    .option('--host <host>', 'host of an added node')
    .action(
      action(io, async (ctx, change: string, nodeId: string, opts: { zone?: string; weight?: string; host?: string }) => {
        if (!(PLAN_CHANGES as readonly string[]).includes(change)) throw usageError(`change must be one of ${PLAN_CHANGES.join(', ')}, not "${change}"`);
        if (change === 'add' && !opts.zone) throw usageError('plan rebalance add needs --zone');
        if ((change === 'add' || change === 'weight') && opts.weight === undefined) throw usageError(`plan rebalance ${change} needs --weight`);
        const weight = opts.weight === undefined ? undefined : integerArg('--weight', opts.weight, NODE_WEIGHT_MIN, NODE_WEIGHT_MAX);
        const reply = await ctx.admin.get<RebalancePlanWire>('scheduler', '/admin/plan', { query: { change, nodeId, zone: opts.zone, host: opts.host, weight } });
        ctx.print(
          () =>
            [
              `What if: ${change} ${nodeId}${weight !== undefined ? ` (weight ${weight})` : ''}${opts.zone ? ` in ${opts.zone}` : ''} — nothing has moved`,
              renderFields([
                ['chunks examined', `${reply.chunksExamined} (${formatBytes(reply.bytesExamined)})`],
                ['chunks moving', reply.chunksMoving],
                ['bytes to copy', `${formatBytes(reply.bytesToCopy)} (${formatPercent(reply.fractionOfBytesMoving)} of the data)`],
                ['repair throttle', formatRate(reply.throttleBytesPerSecond, 'bytes')],
                ['observed rate', reply.observedBytesPerSecond === null ? 'not measured yet' : formatRate(reply.observedBytesPerSecond, 'bytes')],
                ['estimated time', formatDuration(reply.estimatedSeconds)],
              ]),
              '',
              renderTable(
                ['node', 'receives', 'chunks in', 'releases', 'chunks out'],
                reply.nodes.map((n) => [n.nodeId, formatBytes(n.receiveBytes), n.receiveChunks, formatBytes(n.releaseBytes), n.releaseChunks]),
                '(no node gains or loses anything)',
              ),
            ].join('\n'),
          reply,
        );
      }),
    );
}
