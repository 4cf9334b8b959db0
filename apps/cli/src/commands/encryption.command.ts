import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Command } from 'commander';
import { renderFields, renderTable } from '../domain/format';
import { CliError, ExitCodes, usageError } from '../domain/exit-codes';
import { action, type CliIo, type CommandContext } from './context';

/** The gateway's key admin API (docs/encryption.md), signed by the root S3 key. */
const KEY_ADMIN_PATH = '/_cairn/admin/keys';
const PRESIGN_EXPIRES_SECONDS = 300;

interface KeysWire {
  readonly currentMasterVersion: string;
  readonly masterVersions: readonly string[];
  readonly kmsKeys: readonly { readonly keyId: string; readonly createdAt: string; readonly description?: string }[];
}
interface RewrapWire {
  readonly version: string;
  readonly scanned: number;
  readonly rewrapped: number;
  /** Absent from gateways older than access-key resealing. */
  readonly resealedAccessKeys?: number;
}

/** `cairn encryption keys|rotate|rewrap|create-kms-key`: the region's master key and SSE-KMS keys. */
export function registerEncryption(program: Command, io: CliIo): void {
  const encryption = program.command('encryption').description('encryption at rest: the master key (rotation) and SSE-KMS keys; needs the root S3 key');
  encryption
    .command('keys')
    .description('master key versions and SSE-KMS keys (never key material)')
    .action(
      action(io, async (ctx) => {
        const reply = await call<KeysWire>(ctx, 'GET', '');
        ctx.print(
          () =>
            `${renderFields([
              ['current master key version', reply.currentMasterVersion],
              ['master key versions', reply.masterVersions.join(', ')],
            ])}\n${renderTable(['KMS KEY', 'CREATED', 'DESCRIPTION'], reply.kmsKeys.map((k) => [k.keyId, k.createdAt, k.description ?? '']))}`,
          reply,
        );
      }),
    );
  encryption
    .command('rotate')
    .description('add a master key version, make it current and re-wrap every SSE-S3 data key under it (no data is rewritten)')
    .action(action(io, async (ctx) => printRewrap(ctx, await call<RewrapWire>(ctx, 'POST', '/rotate'))));
  encryption
    .command('rewrap')
    .description('re-wrap SSE-S3 data keys still under an older master version (finishes an interrupted rotation)')
    .action(action(io, async (ctx) => printRewrap(ctx, await call<RewrapWire>(ctx, 'POST', '/rewrap'))));
  encryption
    .command('create-kms-key')
    .description('create a named SSE-KMS key; use its id as x-amz-server-side-encryption-aws-kms-key-id')
    .option('--description <text>', 'what the key is for')
    .action(
      action(io, async (ctx, opts: { description?: string }) => {
        const reply = await call<{ keyId: string; createdAt: string }>(ctx, 'POST', '/kms', opts.description ? { description: opts.description } : {});
        ctx.print(() => reply.keyId, reply);
      }),
    );
}

function printRewrap(ctx: CommandContext, reply: RewrapWire): void {
  ctx.print(
    () =>
      renderFields([
        ['master key version', reply.version],
        ['versions scanned', String(reply.scanned)],
        ['data keys re-wrapped', String(reply.rewrapped)],
        ...(reply.resealedAccessKeys === undefined ? [] : [['access-key secrets resealed', String(reply.resealedAccessKeys)] as [string, string]]),
      ]),
    reply,
  );
}

/** A presigned request (SigV4, service s3) to the gateway's key admin API with the profile's S3 keys. */
async function call<T>(ctx: CommandContext, method: 'GET' | 'POST', action: string, query: Record<string, string> = {}): Promise<T> {
  const keys = ctx.settings.s3Keys;
  if (!keys) throw usageError('the profile has no S3 keys: key administration is signed with the root key (CAIRN_ACCESS_KEY_ID / CAIRN_SECRET_ACCESS_KEY)');
  const url = new URL(ctx.settings.endpoints.access);
  const signer = new SignatureV4({ credentials: { accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey }, region: keys.signingRegion, service: 's3', sha256: Sha256, uriEscapePath: false });
  const path = `${KEY_ADMIN_PATH}${action}`;
  const signed = await signer.presign(
    { method, protocol: url.protocol, hostname: url.hostname, port: url.port ? Number(url.port) : undefined, path, query, headers: { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } },
    { expiresIn: PRESIGN_EXPIRES_SECONDS },
  );
  const search = Object.entries(signed.query ?? {})
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`)
    .join('&');
  const reply = await fetch(`${url.origin}${path}?${search}`, { method });
  const text = await reply.text();
  if (reply.status === 200) return JSON.parse(text) as T;
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? `HTTP ${reply.status}`;
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? text.slice(0, 200);
  throw new CliError(reply.status === 403 ? ExitCodes.auth : ExitCodes.failed, `${code}: ${message} (${method} ${path} at ${url.origin})`, code);
}
