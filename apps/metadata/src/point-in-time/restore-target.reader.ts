import { keyIdOf } from '@cairn/hashing';
import { runPool } from '@cairn/service-kit';
import type { DataSource } from 'typeorm';
import { prefixUpperBound } from '../adapters/listing/key-order';
import { schemaOf, tableIn } from '../adapters/metadata-schema';
import type { MetadataReadModel } from '../adapters/metadata-read-model';
import type { Row } from '../adapters/read-model-rows';
import { keyAsOf, withoutInlineBodies, type TargetKeyNow } from '../domain/point-in-time/point-in-time';
import type { MetadataCommandContext } from '../shared/metadata-command-context';

/** Keys of the target one read-model query returns at most (a page's range is walked in batches). */
export const TARGET_KEYS_BATCH = 1_000;
/** Keys of a page whose histories are read from the log at once. */
const TARGET_READS_IN_FLIGHT = 16;

/** The restore target's live keys in a key range, from the read model (object_versions, "C" order like S3's). */
export class RestoreTargetQueries {
  private readonly t: (table: string) => string;

  constructor(private readonly dataSource: DataSource) {
    this.t = tableIn(schemaOf(dataSource));
  }

  /** Live keys (current version not a delete marker) under the prefix in (after, through], in key order. */
  async liveKeysInRange(bucket: string, prefix: string, after: string, through: string | null): Promise<string[]> {
    const upperOfPrefix = prefix === '' ? null : prefixUpperBound(prefix);
    const keys: string[] = [];
    let from = after === '' ? null : after;
    for (;;) {
      const params: unknown[] = [bucket, TARGET_KEYS_BATCH];
      const bounds = [
        prefix === '' ? '' : `AND key >= $${params.push(prefix)} COLLATE "C"`,
        upperOfPrefix === null ? '' : `AND key < $${params.push(upperOfPrefix)} COLLATE "C"`,
        from === null ? '' : `AND key > $${params.push(from)} COLLATE "C"`,
        through === null ? '' : `AND key <= $${params.push(through)} COLLATE "C"`,
      ].join(' ');
      const rows: Row[] = await this.dataSource.query(
        `SELECT key FROM ${this.t('object_versions')}
         WHERE bucket = $1 AND is_current AND NOT is_delete_marker ${bounds}
         ORDER BY key LIMIT $2`,
        params,
      );
      for (const row of rows) keys.push(String(row['key']));
      if (rows.length < TARGET_KEYS_BATCH) return keys;
      from = keys[keys.length - 1];
    }
  }
}

/**
 * The restore target's state now for one page of a restore from a backup: the keys the page names
 * and the target's live keys in its range (read model), each folded from its own subject on the
 * live log as GET folds it, with inline bodies dropped (a comparison needs the chunk hashes only).
 * Memory and time go with the page, not with the target bucket's history.
 */
export class RestoreTargetReader {
  constructor(
    private readonly ctx: MetadataCommandContext,
    private readonly readModel: MetadataReadModel,
  ) {}

  async keysNow(bucket: string, range: { readonly prefix: string; readonly after: string; readonly through: string | null }, sourceKeys: readonly string[]): Promise<TargetKeyNow[]> {
    const live = await (await this.readModel.queries(RestoreTargetQueries)).liveKeysInRange(bucket, range.prefix, range.after, range.through);
    const keys = [...new Set([...sourceKeys, ...live])];
    const out: TargetKeyNow[] = new Array(keys.length);
    await runPool(keys, TARGET_READS_IN_FLIGHT, undefined, async (key, i) => {
      const read = await this.ctx.store.readUncached(this.ctx.subjects.object(bucket, keyIdOf(key)));
      out[i] = { key, now: withoutInlineBodies(keyAsOf(read.events, Number.MAX_SAFE_INTEGER)) };
    });
    return out;
  }
}
