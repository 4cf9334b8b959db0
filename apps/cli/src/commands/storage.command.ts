import { Argument, type Command } from 'commander';
import type { BucketWire } from '../domain/admin-api.types';
import { renderFields } from '../domain/format';
import { action, type CliIo } from './context';

/** S3's storage classes as Cairn keeps them (docs/storage-classes.md). */
export const STORAGE_CLASSES = ['STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'GLACIER_IR'] as const;

/** `cairn storage`: storage classes (a bucket's default) and capacity by class and node. */
export function registerStorage(program: Command, io: CliIo): void {
  const storage = program.command('storage').description('storage classes and capacity: a bucket\'s default class; bytes per class, raw bytes per node, erasure coding\'s saving');

  storage
    .command('class')
    .description('set the storage class a bucket\'s objects get when their PUT, copy or multipart upload names none (x-amz-storage-class)')
    .argument('<bucket>')
    .addArgument(new Argument('<class>', 'STANDARD (3 copies), REDUCED_REDUNDANCY (2), STANDARD_IA or GLACIER_IR (erasure-coded)').choices(STORAGE_CLASSES))
    .action(
      action(io, async (ctx, bucket: string, storageClass: string) => {
        const reply = await ctx.admin.call<BucketWire>('metadata', 'PUT', `/admin/buckets/${encodeURIComponent(bucket)}/storage-class`, { body: { defaultStorageClass: storageClass } });
        ctx.print(() => renderFields([['bucket', reply.name], ['default storage class', reply.defaultStorageClass ?? '']]), reply);
      }),
    );
}
