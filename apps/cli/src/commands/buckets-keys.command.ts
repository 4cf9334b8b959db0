import type { Command } from 'commander';
import type { AccessKeyWire, BucketWire } from '../domain/admin-api.types';
import { renderFields, renderTable } from '../domain/format';
import { action, type CliIo } from './context';

export function registerBucketsAndKeys(program: Command, io: CliIo): void {
  const buckets = program.command('buckets').description('buckets of the region');
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
              ['bucket', 'owner', 'region', 'versioning', 'storage class', 'created', 'deleting'],
              reply.buckets.map((b) => [b.name, b.owner, b.region, b.versioning, b.defaultStorageClass, b.createdAt, b.deleting]),
              '(no buckets)',
            ),
          reply,
        );
      }),
    );

  const keys = program.command('keys').description('S3 access keys');
  keys
    .command('create <owner>')
    .description('create an access key acting as <owner>; its secret is shown this once')
    .action(
      action(io, async (ctx, owner: string) => {
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
