import { Option, type Command } from 'commander';
import type { AccessKeyWire, BucketWire, ListConflictsReply } from '../domain/admin-api.types';
import { renderFields, renderTable } from '../domain/format';
import {
  conflictsTable,
  CONFLICTS_LIMIT_MAX,
  describeReplication,
  isoArg,
  REPLICATION_MODES,
  replicationBody,
  replicationCell,
  type ReplicationModeArg,
} from '../domain/replication-views';
import { CliError, ExitCodes } from '../domain/exit-codes';
import { action, integerArg, type CliIo } from './context';

/** The widest bound metadata takes (READ_STALENESS_SECONDS_MAX of the protocol; the CLI loads no library at run time for a constant). */
const READ_STALENESS_SECONDS_MAX = 86_400;

/** GET/PUT /admin/buckets/:name/read-staleness. */
interface ReadStalenessWire {
  readonly bucket: string;
  readonly readStaleness: 'read-your-writes' | number;
}

const bucketPath = (bucket: string) => `/admin/buckets/${encodeURIComponent(bucket)}`;

export function registerBucketsAndKeys(program: Command, io: CliIo): void {
  const buckets = program.command('buckets').alias('bucket').description('buckets of the region: list, replication between regions, conflict log');
  buckets
    .command('list')
    .description('every bucket (of one owner with --owner)')
    .option('--owner <owner>', 'only the buckets of this owner')
    .action(
      action(io, async (ctx, opts: { owner?: string }) => {
        const reply = await ctx.admin.get<{ buckets: BucketWire[] }>('metadata', '/admin/buckets', { query: { owner: opts.owner } });
        ctx.print(
          () =>
            renderTable(
              ['bucket', 'owner', 'region', 'versioning', 'replication', 'storage class', 'created', 'deleting'],
              reply.buckets.map((b) => [b.name, b.owner, b.region, b.versioning, replicationCell(b), b.defaultStorageClass, b.createdAt, b.deleting]),
              '(no buckets)',
            ),
          reply,
        );
      }),
    );

  buckets
    .command('replication <bucket>')
    .description("set how a bucket replicates between regions: local (this region only), active-passive (writes go to --home), active-active (every region takes writes; concurrent writes of a key are resolved and logged: cairn bucket conflicts)")
    .addOption(new Option('--mode <mode>', 'replication mode').choices(REPLICATION_MODES).makeOptionMandatory())
    .option('--home <region>', 'the region that takes the writes (active-passive only), e.g. region-1')
    .action(
      action(io, async (ctx, bucket: string, opts: { mode: ReplicationModeArg; home?: string }) => {
        const body = replicationBody(opts.mode, opts.home);
        const reply = await ctx.admin.call<BucketWire>('metadata', 'PUT', `${bucketPath(bucket)}/replication`, { body });
        ctx.print(() => `bucket ${describeReplication(reply)}`, reply);
      }),
    );

  buckets
    .command('staleness <bucket> [bound]')
    .description(
      "how current another region's copy of an active-passive bucket must be to serve its reads: <seconds> behind the home at most, or read-your-writes (the default: each client sees its own writes through that region); a region further behind waits up to 1 s, then answers 503 SlowDown naming the home. Without a bound: the bucket's current one",
    )
    .action(
      action(io, async (ctx, bucket: string, bound: string | undefined) => {
        const path = `${bucketPath(bucket)}/read-staleness`;
        const readStaleness = bound === undefined ? undefined : bound === 'read-your-writes' ? bound : integerArg('<bound>', bound, 1, READ_STALENESS_SECONDS_MAX);
        const reply =
          readStaleness === undefined
            ? await ctx.admin.get<ReadStalenessWire>('metadata', path)
            : await ctx.admin.call<ReadStalenessWire>('metadata', 'PUT', path, { body: { readStaleness } });
        ctx.print(() => `bucket ${reply.bucket}: reads in other regions than its home ${typeof reply.readStaleness === 'number' ? `at most ${reply.readStaleness} s behind the home` : 'read-your-writes (each client sees its own writes)'}`, reply);
      }),
    );

  buckets
    .command('conflicts <bucket>')
    .description("the conflicts resolved on a bucket's keys between regions (active-active writes of one key that met), oldest first")
    .option('--since <iso>', 'resolved at or after this instant (ISO-8601, e.g. 2026-12-01 or 2026-12-01T09:30:00Z)')
    .option('--until <iso>', 'resolved before this instant (ISO-8601)')
    .option('--limit <n>', `at most this many (1-${CONFLICTS_LIMIT_MAX})`, String(CONFLICTS_LIMIT_MAX))
    .option('--after <conflictId>', 'the page after this conflict (printed at the end of a full page)')
    .action(
      action(io, async (ctx, bucket: string, opts: { since?: string; until?: string; limit: string; after?: string }) => {
        const query = {
          since: opts.since === undefined ? undefined : isoArg('--since', opts.since),
          until: opts.until === undefined ? undefined : isoArg('--until', opts.until),
          limit: integerArg('--limit', opts.limit, 1, CONFLICTS_LIMIT_MAX),
          after: opts.after,
        };
        const reply = await ctx.admin.get<ListConflictsReply>('metadata', `${bucketPath(bucket)}/conflicts`, { query });
        ctx.print(() => `${conflictsTable(reply.conflicts)}${reply.nextAfter ? `
more: cairn bucket conflicts ${bucket} --after ${reply.nextAfter}` : ''}`, reply);
      }),
    );

  const keys = program.command('keys').description('S3 access keys');
  keys
    .command('create [owner]')
    .description('create an access key acting for a user (--user, or <owner>; a new name becomes a user); its secret is shown this once')
    .option('--user <user>', 'the user the key acts for')
    .action(
      action(io, async (ctx, ownerArg: string | undefined, opts: { user?: string }) => {
        const owner = opts.user ?? ownerArg;
        if (owner === undefined) throw new CliError(ExitCodes.usage, 'name the user: cairn keys create --user <user>');
        if (opts.user !== undefined && ownerArg !== undefined && ownerArg !== opts.user) throw new CliError(ExitCodes.usage, 'give the user once: --user or <owner>');
        const reply = await ctx.admin.post<AccessKeyWire>('metadata', '/admin/access-keys', { body: { owner } });
        ctx.print(
          () =>
            `${renderFields([
              ['access key id', reply.accessKeyId],
              ['secret access key', reply.secretAccessKey],
              ['owner', reply.owner],
              ['created', reply.createdAt],
            ])}\nThe secret is not shown again: keep it now.`,
          reply,
        );
      }),
    );
  keys
    .command('list')
    .description('access keys (secrets are never listed)')
    .option('--owner <owner>', 'only the keys of this owner')
    .action(
      action(io, async (ctx, opts: { owner?: string }) => {
        const reply = await ctx.admin.get<{ accessKeys: AccessKeyWire[] }>('metadata', '/admin/access-keys', { query: { owner: opts.owner } });
        // The list blanks secrets; leave them out altogether rather than print an empty field.
        const accessKeys = reply.accessKeys.map(({ secretAccessKey: _secret, ...rest }) => rest);
        ctx.print(
          () =>
            renderTable(
              ['access key id', 'owner', 'root', 'created', 'revoked'],
              accessKeys.map((k) => [k.accessKeyId, k.owner, k.isRoot, k.createdAt, k.revokedAt]),
              '(no access keys)',
            ),
          { accessKeys },
        );
      }),
    );
  keys
    .command('revoke <accessKeyId>')
    .description('revoke an access key (its id stays taken)')
    .action(
      action(io, async (ctx, accessKeyId: string) => {
        const reply = await ctx.admin.delete<{ sequence?: number }>('metadata', `/admin/access-keys/${encodeURIComponent(accessKeyId)}`);
        ctx.print(() => `access key ${accessKeyId} revoked`, { accessKeyId, revoked: true, ...reply });
      }),
    );
}
