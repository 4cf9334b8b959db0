import { Argument, type Command } from 'commander';
import type { BucketWire } from '../domain/admin-api.types';
import { formatBytes, renderFields, renderTable } from '../domain/format';
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
    .addArgument(new Argument('<class>', 'STANDARD (rf copies: the region\'s replication factor, 3 by default), REDUCED_REDUNDANCY (min(2, rf)), STANDARD_IA or GLACIER_IR (erasure-coded)').choices(STORAGE_CLASSES))
    .action(
      action(io, async (ctx, bucket: string, storageClass: string) => {
        const reply = await ctx.admin.call<BucketWire>('metadata', 'PUT', `/admin/buckets/${encodeURIComponent(bucket)}/storage-class`, { body: { defaultStorageClass: storageClass } });
        ctx.print(() => renderFields([['bucket', reply.name], ['default storage class', reply.defaultStorageClass ?? '']]), reply);
      }),
    );

  storage
    .command('capacity')
    .description('bytes per storage class (what clients stored, what it takes on the nodes, against three copies), chunk bytes on each node, erasure coding\'s saving')
    .action(
      action(io, async (ctx) => {
        const report = await ctx.admin.get<CapacityWire>('scheduler', '/admin/capacity');
        ctx.print(() => capacityText(report), report);
      }),
    );
}

/** GET /admin/capacity on the scheduler (apps/scheduler/src/capacity). */
export interface CapacityWire {
  readonly at: string;
  readonly classes: readonly { storageClass: string; versions: number; logicalBytes: number; inlineBytes: number; storedBytes: number; threeCopyBytes: number; erasureCodedBytes: number }[];
  readonly totals: { logicalBytes: number; storedBytes: number; threeCopyBytes: number; savingBytes: number; storedPerLogical: number | null; rawBytesOnNodes: number };
  readonly nodes: readonly { nodeId: string; reachable: boolean; chunkBytes: number | null; chunkCount: number | null; capacityBytes: number | null; freeBytes: number | null; error?: string }[];
}

export function capacityText(report: CapacityWire): string {
  const ratio = (stored: number, logical: number) => (logical > 0 ? `${(stored / logical).toFixed(2)}x` : '-');
  const classes = renderTable(
    ['class', 'versions', 'logical', 'on nodes', 'per logical byte', 'as 3 copies', 'saving'],
    report.classes.map((c) => [
      c.storageClass,
      c.versions,
      formatBytes(c.logicalBytes),
      formatBytes(c.storedBytes),
      ratio(c.storedBytes, c.logicalBytes - c.inlineBytes),
      formatBytes(c.threeCopyBytes),
      formatBytes(Math.max(0, c.threeCopyBytes - c.storedBytes)),
    ]),
    '(no objects)',
  );
  const nodes = renderTable(
    ['node', 'chunk bytes', 'chunks', 'free', 'capacity'],
    report.nodes.map((n) => [n.nodeId, n.reachable ? formatBytes(n.chunkBytes) : `unreachable: ${n.error ?? ''}`, n.chunkCount, formatBytes(n.freeBytes), formatBytes(n.capacityBytes)]),
    '(no nodes)',
  );
  const t = report.totals;
  const totals = renderFields([
    ['logical', formatBytes(t.logicalBytes)],
    ['on nodes (by class)', `${formatBytes(t.storedBytes)}${t.storedPerLogical === null ? '' : ` (${t.storedPerLogical.toFixed(2)} per logical byte)`}`],
    ['on nodes (reported)', formatBytes(t.rawBytesOnNodes)],
    ['saving vs 3 copies', formatBytes(t.savingBytes)],
  ]);
  return `${classes}\n\n${nodes}\n\n${totals}`;
}
