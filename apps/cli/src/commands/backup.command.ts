import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { request } from 'undici';
import { CliError, ExitCodes, exitCodeForStatus } from '../domain/exit-codes';
import { historyTable, momentArg, type HistoryListWire } from '../domain/point-in-time-views';
import { action, integerArg, type CliIo } from './context';

const bucketPath = (bucket: string) => `/admin/buckets/${encodeURIComponent(bucket)}`;

/**
 * Reading the past, point-in-time restore and backups (docs/backups.md):
 * `cairn bucket ls <bucket> --at <time>`, `cairn object get <bucket> <key> --at <time> -o <file>`.
 */
export function registerBackups(program: Command, io: CliIo): void {
  const buckets = program.commands.find((c) => c.name() === 'buckets') ?? program.command('buckets').alias('bucket');
  buckets
    .command('ls <bucket>')
    .description('the objects of a bucket as of a moment (from the event log, so deleted objects show as they were)')
    .requiredOption('--at <time>', 'ISO-8601 instant with zone (2026-12-02T16:00:00Z) or a time ago (10m, 2h, 1d)')
    .option('--prefix <prefix>', 'only keys starting with this')
    .option('--limit <n>', 'at most this many keys (1-1000); the rest are pages away', '1000')
    .option('--after <key>', 'the page after this key')
    .action(
      action(io, async (ctx, bucket: string, opts: { at: string; prefix?: string; limit: string; after?: string }) => {
        const at = momentArg('--at', opts.at, Date.now());
        const query = { at, prefix: opts.prefix, after: opts.after, limit: integerArg('--limit', opts.limit, 1, 1000) };
        const reply = await ctx.admin.get<HistoryListWire>('metadata', `${bucketPath(bucket)}/objects`, { query });
        ctx.print(() => `${historyTable(reply)}${reply.nextAfter ? `\nmore: cairn bucket ls ${bucket} --at ${at} --after '${reply.nextAfter}'` : ''}`, reply);
      }),
    );

  const objects = program.commands.find((c) => c.name() === 'object') ?? program.command('object').description('one object of a bucket');
  objects
    .command('get <bucket> <key>')
    .description('the bytes of an object as of a moment (the version current then), written to a file')
    .requiredOption('--at <time>', 'ISO-8601 instant with zone or a time ago (10m, 2h, 1d)')
    .requiredOption('-o, --output <file>', 'where to write the bytes')
    .option('--version-id <id>', 'a version that existed then, rather than the current one')
    .action(
      action(io, async (ctx, bucket: string, key: string, opts: { at: string; output: string; versionId?: string }) => {
        const at = momentArg('--at', opts.at, Date.now());
        const query = new URLSearchParams({ key, at, ...(opts.versionId ? { versionId: opts.versionId } : {}) });
        const url = `${ctx.settings.endpoints.scheduler}/admin/history/buckets/${encodeURIComponent(bucket)}/object?${query.toString()}`;
        const token = await ctx.admin.operatorToken();
        let res;
        try {
          res = await request(url, { method: 'GET', headers: { authorization: `Bearer ${token}` } });
        } catch (error) {
          throw new CliError(ExitCodes.unreachable, `cannot reach the scheduler: ${(error as Error).message}`);
        }
        if (res.statusCode !== 200) {
          const text = await res.body.text();
          let parsed: { code?: string; message?: string } = {};
          try {
            parsed = JSON.parse(text) as typeof parsed;
          } catch {
            // not JSON: the text is the message
          }
          throw new CliError(exitCodeForStatus(res.statusCode), `${parsed.code ?? `HTTP ${res.statusCode}`}: ${parsed.message ?? text.slice(0, 200)}`, parsed.code, res.statusCode);
        }
        const partial = `${opts.output}.partial`;
        try {
          await pipeline(res.body, createWriteStream(partial));
          await rename(partial, opts.output);
        } catch (error) {
          await rm(partial, { force: true });
          throw new CliError(ExitCodes.failed, `the download of ${bucket}/${key} broke off: ${(error as Error).message}`);
        }
        const summary = { bucket, key, at, versionId: String(res.headers['x-cairn-version-id'] ?? ''), etag: String(res.headers['etag'] ?? '').replace(/"/g, ''), sizeBytes: Number(res.headers['content-length']), file: opts.output };
        ctx.print(() => `${bucket}/${key} as of ${at}: version ${summary.versionId}, ${summary.sizeBytes} bytes, etag ${summary.etag} → ${opts.output}`, summary);
      }),
    );
}
