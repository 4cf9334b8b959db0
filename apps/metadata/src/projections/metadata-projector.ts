import type { Projection, StoredEvent } from '@cairn/eventing';
import type { EventEnvelope } from '@cairn/protocol';
import type { DataSource, EntityManager } from 'typeorm';
import { schemaOf } from '../adapters/metadata-schema';
import { tableIn } from '../adapters/metadata-schema';
import type { AccessKeySecrets } from '../access-key/access-key-secrets';
import { MetadataProjection } from './metadata.projection';
import { checkpointChannel } from './checkpoint-notifications';

export interface ProjectOptions {
  /**
   * Every stream sequence reaches this projector (an unfiltered stream): apply only the run of events
   * that continues the checkpoint without a hole, and stop at the first hole. The caller acks what
   * the returned checkpoint covers and hands the rest back (another instance holds the missing ones).
   */
  readonly contiguous?: boolean;
}

export interface ProjectedBatch {
  readonly applied: number;
  /** Events at or below the checkpoint (already applied) or of types this projection ignores. */
  readonly skipped: number;
  readonly checkpoint: number;
}

export interface MetadataProjectorOptions {
  /** Defaults to the MetadataProjection of the data source's schema. */
  readonly projection?: Projection<EntityManager>;
  /**
   * The checkpoint row's name; defaults to the projection's name. Each stream a projection reads
   * has its own sequence space, so a projector per stream needs its own checkpoint row.
   */
  readonly checkpointName?: string;
  /** Seals plaintext access-key secrets of older events as they are projected (the default projection only). */
  readonly accessKeySecrets?: AccessKeySecrets;
}

/**
 * Feeds stream events, in stream order, to a projection, one transaction per batch: the rows and
 * the checkpoint (the last sequence applied) commit together, so a crash anywhere in a batch leaves
 * neither, and events at or below the checkpoint are skipped when they are delivered again. The
 * events come in their current shape: whoever read them from the stream upcast them.
 * The caller (a JetStream consumer) acks a batch only after `project` resolves.
 */
export class MetadataProjector {
  private readonly projection: Projection<EntityManager>;
  private readonly checkpoints: string;
  private readonly checkpointName: string;
  /** Where a moved checkpoint is announced (NOTIFY in the same transaction: heard only on commit). */
  private readonly channel: string;

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: MetadataProjectorOptions = {},
  ) {
    const schema = schemaOf(dataSource);
    this.projection = options.projection ?? new MetadataProjection(schema, options.accessKeySecrets);
    this.checkpoints = tableIn(schema)('projection_checkpoints');
    this.checkpointName = options.checkpointName ?? this.projection.name;
    this.channel = checkpointChannel(schema);
  }

  get name(): string {
    return this.checkpointName;
  }

  async checkpoint(): Promise<number> {
    const rows: { sequence: string }[] = await this.dataSource.query(`SELECT sequence FROM ${this.checkpoints} WHERE projection = $1`, [this.checkpointName]);
    return rows.length === 0 ? 0 : Number(rows[0].sequence);
  }

  async project(events: readonly StoredEvent[], options: ProjectOptions = {}): Promise<ProjectedBatch> {
    for (let i = 1; i < events.length; i++) {
      if (events[i].sequence <= events[i - 1].sequence) {
        throw new Error(`events must come in stream order: ${events[i].sequence} follows ${events[i - 1].sequence}`);
      }
    }
    return this.dataSource.transaction((tx) => this.projectWithin(tx, events, options));
  }

  /**
   * Moves the checkpoint over one event that cannot be projected (parked in the dead-letter stream
   * by the caller), only if it is the very next one: nothing else is ever skipped.
   */
  async skip(sequence: number): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `WITH moved AS (UPDATE ${this.checkpoints} SET sequence = $2 WHERE projection = $1 AND sequence = $3 RETURNING sequence)
       SELECT pg_notify($4, $1 || ' ' || sequence) FROM moved`,
      [this.checkpointName, sequence, sequence - 1, this.channel],
    );
    return rows.length > 0;
  }

  /** `project` inside a transaction the caller owns (a rebuild replays a whole stream in one). */
  async projectWithin(tx: EntityManager, events: readonly StoredEvent[], options: ProjectOptions = {}): Promise<ProjectedBatch> {
    // The row lock serialises two projector instances on one schema: the second waits, then skips.
    await tx.query(`INSERT INTO ${this.checkpoints} (projection, sequence) VALUES ($1, 0) ON CONFLICT (projection) DO NOTHING`, [this.checkpointName]);
    const [row]: { sequence: string }[] = await tx.query(`SELECT sequence FROM ${this.checkpoints} WHERE projection = $1 FOR UPDATE`, [
      this.checkpointName,
    ]);
    const from = Number(row.sequence);
    let checkpoint = from;
    const toApply: { envelope: EventEnvelope; sequence: number }[] = [];
    for (const stored of events) {
      if (stored.sequence <= checkpoint) continue;
      if (options.contiguous && stored.sequence !== checkpoint + 1) break;
      const { envelope } = stored;
      if (this.projection.handles.includes(envelope.type)) toApply.push({ envelope, sequence: stored.sequence });
      checkpoint = stored.sequence;
    }
    if (this.projection.applyAll) await this.projection.applyAll(tx, toApply);
    else for (const { envelope, sequence } of toApply) await this.projection.apply(tx, envelope, sequence);
    const applied = toApply.length;
    if (checkpoint !== from) {
      // Waiters on other instances wake on the notification, delivered only when this commits.
      await tx.query(
        `WITH moved AS (UPDATE ${this.checkpoints} SET sequence = $2 WHERE projection = $1 RETURNING sequence)
         SELECT pg_notify($3, $1 || ' ' || sequence) FROM moved`,
        [this.checkpointName, checkpoint, this.channel],
      );
    }
    return { applied, skipped: events.length - applied, checkpoint };
  }
}
