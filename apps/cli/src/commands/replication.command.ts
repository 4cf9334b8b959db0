import type { Command } from 'commander';
import type { ReplicationLagView } from '../domain/admin-api.types';
import { CliError, ExitCodes } from '../domain/exit-codes';
import { lagTables } from '../domain/replication-views';
import { action, type CliIo } from './context';

/** `cairn replication`: replication between regions as this region's sync service sees it. */
export function registerReplication(program: Command, io: CliIo): void {
  const replication = program.command('replication').description('replication between regions (the sync service): lag per link');

  replication
    .command('lag')
    .description("each replication link into and out of this region: whether it is up, the changes not yet applied and how old the oldest is (the RPO), per bucket behind")
    .action(
      action(io, async (ctx) => {
        const links = await ctx.admin.getIfServed<ReplicationLagView[]>('sync', '/replication/lag');
        if (links === null) {
          throw new CliError(ExitCodes.failed, `the sync service at ${ctx.settings.endpoints.sync} serves no /replication/lag (an older sync?)`, 'NOT_SERVED', 404);
        }
        ctx.print(() => lagTables(links), links);
      }),
    );
}
