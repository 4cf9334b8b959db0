import type { Command } from 'commander';
import { renderFields, renderTable } from '../domain/format';
import { action, type CliIo } from './context';

/** A user as the admin API answers it (UserView). */
interface UserWire {
  readonly user: string;
  readonly canonicalId: string;
  readonly displayName: string;
  readonly email: string | null;
  readonly createdAt: string | null;
}

/** `cairn users create|ls`: the accounts that own buckets and that access keys act for (docs/acls.md). */
export function registerUsers(program: Command, io: CliIo): void {
  const users = program.command('users').alias('user').description('users: accounts with a canonical id and display name; access keys act for one');
  users
    .command('create <user>')
    .description('create a user (lowercase name); its canonical id follows from the name')
    .option('--display-name <name>', 'shown as DisplayName in S3 answers (default: the name)')
    .option('--email <address>', 'what emailAddress grants (x-amz-grant-*, AmazonCustomerByEmail) name')
    .action(
      action(io, async (ctx, user: string, opts: { displayName?: string; email?: string }) => {
        const body = { user, ...(opts.displayName !== undefined ? { displayName: opts.displayName } : {}), ...(opts.email !== undefined ? { email: opts.email } : {}) };
        const reply = await ctx.admin.post<{ sequence: number; user: UserWire }>('metadata', '/admin/users', { body });
        const u = reply.user;
        ctx.print(
          () =>
            `${renderFields([
              ['user', u.user],
              ['canonical id', u.canonicalId],
              ['display name', u.displayName],
              ['email', u.email ?? '-'],
            ])}\nCreate its keys with: cairn keys create --user ${u.user}`,
          reply,
        );
      }),
    );
  users
    .command('ls')
    .alias('list')
    .description('every user (owners of keys made before users were recorded included)')
    .action(
      action(io, async (ctx) => {
        const reply = await ctx.admin.get<{ users: UserWire[] }>('metadata', '/admin/users');
        ctx.print(
          () =>
            renderTable(
              ['user', 'display name', 'email', 'canonical id', 'created'],
              reply.users.map((u) => [u.user, u.displayName, u.email ?? '-', u.canonicalId, u.createdAt ?? '(implicit)']),
              '(no users)',
            ),
          reply,
        );
      }),
    );
}
