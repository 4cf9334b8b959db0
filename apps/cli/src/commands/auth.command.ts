import * as os from 'node:os';
import type { Command } from 'commander';
import { writeProfile } from '../adapters/profile-file';
import { exchangeKeysForToken } from '../adapters/s3-token-exchange';
import type { IssuedTokenWire } from '../domain/admin-api.types';
import { formatDuration, parseDuration } from '../domain/duration';
import { CliError, ExitCodes, usageError } from '../domain/exit-codes';
import { renderFields } from '../domain/format';
import { readTokenClaims } from '../domain/operator-token';
import { DEFAULT_S3_SIGNING_REGION, type ProfileFile } from '../domain/settings';
import { action, type CliIo } from './context';

export const OPERATOR_ROLES = ['admin', 'read-only'] as const;
/** What `cairn login` asks for unless told otherwise (the services' own default lifetime). */
export const LOGIN_TTL_DEFAULT = '12h';

function roleArg(role: string): (typeof OPERATOR_ROLES)[number] {
  if (!(OPERATOR_ROLES as readonly string[]).includes(role)) throw usageError(`--role must be ${OPERATOR_ROLES.join(' or ')}, not "${role}"`);
  return role as (typeof OPERATOR_ROLES)[number];
}

function describeIssued(t: IssuedTokenWire, nowMs: number): string {
  return renderFields([
    ['token', t.token],
    ['id', t.id],
    ['role', t.role],
    ['label', t.label || null],
    ['expires', `${t.expiresAt} (in ${formatDuration((Date.parse(t.expiresAt) - nowMs) / 1000)})`],
  ]);
}

export function registerAuth(program: Command, io: CliIo): void {
  const token = program.command('token').description('operator tokens for the admin APIs');
  token
    .command('create')
    .description('issue an operator token (needs an admin token); it is shown this once')
    .requiredOption('--role <role>', 'admin (may change anything) or read-only (may only read)')
    .option('--label <label>', 'who or what it is for; shown in the services’ logs with its id')
    .option('--ttl <duration>', 'lifetime, e.g. 90m, 12h, 30d (default 12h, at most 366d)')
    .action(
      action(io, async (ctx, opts: { role: string; label?: string; ttl?: string }) => {
        const role = roleArg(opts.role);
        const ttlSeconds = opts.ttl === undefined ? undefined : parseDuration(opts.ttl);
        const reply = await ctx.admin.post<IssuedTokenWire>('metadata', '/admin/tokens', { body: { role, ...(opts.label !== undefined ? { label: opts.label } : {}), ...(ttlSeconds !== undefined ? { ttlSeconds } : {}) } });
        ctx.print(() => `${describeIssued(reply, Date.now())}\nUse it with: export CAIRN_OPERATOR_TOKEN=<token>`, reply);
      }),
    );

  program
    .command('whoami')
    .description('the credential and region the CLI uses, as the admin API sees it')
    .action(
      action(io, async (ctx) => {
        const reply = await ctx.admin.get<{ caller: { kind: string; role?: string; tokenId?: string; label?: string; name?: string } | null }>('metadata', '/admin/whoami');
        const claims = readTokenClaims(await ctx.admin.operatorToken());
        const source = ctx.settings.operatorToken ? (ctx.io.env['CAIRN_OPERATOR_TOKEN'] ? 'CAIRN_OPERATOR_TOKEN' : `profile ${ctx.profilePath}`) : 'S3 keys traded for a token';
        const json = {
          caller: reply.caller,
          region: ctx.settings.region,
          endpoints: ctx.settings.endpoints,
          credential: source,
          token: claims ? { id: claims.id, role: claims.role, label: claims.label, expiresAt: new Date(claims.expiresAtMs).toISOString() } : null,
        };
        ctx.print(
          () =>
            renderFields([
              ['caller', reply.caller ? (reply.caller.kind === 'operator' ? `${reply.caller.role} operator token ${reply.caller.tokenId}` : `${reply.caller.kind} ${reply.caller.name ?? ''}`) : 'unauthenticated'],
              ['label', reply.caller?.label || null],
              ['expires', claims ? `${json.token!.expiresAt} (in ${formatDuration((claims.expiresAtMs - Date.now()) / 1000)})` : null],
              ['credential', source],
              ['region', ctx.settings.region],
              ['metadata', ctx.settings.endpoints.metadata],
              ['scheduler', ctx.settings.endpoints.scheduler],
              ['monitoring', ctx.settings.endpoints.monitoring],
              ['sync', ctx.settings.endpoints.sync],
              ['s3', ctx.settings.endpoints.access],
            ]),
          json,
        );
      }),
    );

  program
    .command('login')
    .description('trade the root S3 keys for an operator token (SigV4-signed, at the S3 endpoint) and save it in the profile')
    .option('--access-key <id>', 'root access key id (default: CAIRN_ACCESS_KEY_ID, then the profile)')
    .option('--secret-key <secret>', 'its secret (default: CAIRN_SECRET_ACCESS_KEY, then the profile)')
    .option('--role <role>', 'admin or read-only', 'admin')
    .option('--ttl <duration>', 'lifetime of the token', LOGIN_TTL_DEFAULT)
    .option('--label <label>', 'label of the token (default: cairn login by <user>)')
    .option('--no-save', 'print the token without saving it in the profile')
    .action(
      action(io, async (ctx, opts: { accessKey?: string; secretKey?: string; role: string; ttl: string; label?: string; save: boolean }) => {
        const role = roleArg(opts.role);
        const ttlSeconds = parseDuration(opts.ttl);
        const accessKeyId = opts.accessKey ?? ctx.settings.s3Keys?.accessKeyId;
        const secretAccessKey = opts.secretKey ?? (opts.accessKey && opts.accessKey !== ctx.settings.s3Keys?.accessKeyId ? undefined : ctx.settings.s3Keys?.secretAccessKey);
        if (!accessKeyId || !secretAccessKey) {
          throw new CliError(ExitCodes.auth, 'cairn login needs the root S3 keys: --access-key and --secret-key, CAIRN_ACCESS_KEY_ID and CAIRN_SECRET_ACCESS_KEY, or an s3 section in the profile');
        }
        const label = opts.label ?? `cairn login by ${safeUser()}`;
        const issued = await exchangeKeysForToken(
          ctx.admin.http,
          ctx.settings.endpoints.access,
          { accessKeyId, secretAccessKey, signingRegion: ctx.settings.s3Keys?.signingRegion ?? DEFAULT_S3_SIGNING_REGION },
          { role, label, ttlSeconds },
        );
        if (opts.save) writeProfile(ctx.profilePath, withToken(ctx.profile, ctx.options.endpoint ?? (ctx.io.env['CAIRN_ENDPOINT'] || undefined), ctx.settings, issued.token));
        ctx.print(
          () => `${describeIssued(issued, Date.now())}\n${opts.save ? `saved in ${ctx.profilePath}` : 'not saved (--no-save)'}`,
          { ...issued, savedTo: opts.save ? ctx.profilePath : null },
        );
      }, { mayCreateProfile: true }),
    );
}

function safeUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'unknown user';
  }
}

/** The profile with the new token where the CLI will look for it: the named region, else the top level (with the endpoints it was got from). */
function withToken(profile: ProfileFile | null, endpoint: string | undefined, settings: { region: string | null; endpoints: Readonly<Record<string, string>> }, token: string): ProfileFile {
  const base: ProfileFile = profile ?? {};
  if (endpoint && base.regions?.[endpoint]) {
    return { ...base, regions: { ...base.regions, [endpoint]: { ...base.regions[endpoint], operatorToken: token } } };
  }
  const keepEndpoints = base.endpoints && (!endpoint || endpoint === base.region);
  return {
    ...base,
    ...(keepEndpoints ? {} : { endpoints: { ...settings.endpoints }, region: settings.region ?? undefined }),
    operatorToken: token,
  };
}
