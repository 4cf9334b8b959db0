import { Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { Client, type ClientConfig, type Notification } from 'pg';
import type { DataSource } from 'typeorm';
import { schemaOf } from '../adapters/metadata-schema';

/** Postgres channel names are identifiers: at most 63 bytes. */
const MAX_CHANNEL_BYTES = 63;
/** A listening connection that dropped (or never came up) is opened again after this long. */
export const LISTENER_RETRY_MS = 1_000;

/**
 * The channel a schema's checkpoint commits are announced on (NOTIFY in the committing
 * transaction, so a listener hears of a checkpoint only once it is committed). One per schema:
 * co-hosted namespaces do not wake each other.
 */
export function checkpointChannel(schema: string): string {
  const plain = `${schema}:checkpoints`;
  if (Buffer.byteLength(plain) <= MAX_CHANNEL_BYTES) return plain;
  return `checkpoints:${createHash('sha256').update(schema).digest('hex').slice(0, 40)}`;
}

/** The notification's payload (built by the projector's SQL): `<checkpoint row name> <sequence committed>`. */
export function parseCheckpointPayload(payload: string | undefined): { readonly projection: string; readonly sequence: number } | undefined {
  if (!payload) return undefined;
  const space = payload.lastIndexOf(' ');
  const sequence = Number(payload.slice(space + 1));
  if (space <= 0 || !Number.isSafeInteger(sequence)) return undefined;
  return { projection: payload.slice(0, space), sequence };
}

export interface CheckpointListenerHandlers {
  /** A checkpoint row committed `sequence` (this instance's commits are heard too). */
  readonly committed: (projection: string, sequence: number) => void;
  /** (Re)connected and listening: notifications missed while away are lost, so re-read the checkpoints. */
  readonly listening: () => void;
}

/**
 * One dedicated Postgres connection LISTENing on the schema's checkpoint channel, opened again
 * whenever it drops. A waiter woken by it still re-checks under the checkpoint row lock, and keeps
 * a slow poll as fallback, so a notification lost (connection away) costs time, never correctness.
 */
export class CheckpointListener {
  private readonly logger = new Logger('CheckpointListener');
  private readonly channel: string;
  private readonly config: ClientConfig;
  private client: Client | undefined;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;
  private connected = false;

  constructor(
    dataSource: DataSource,
    private readonly handlers: CheckpointListenerHandlers,
  ) {
    this.channel = checkpointChannel(schemaOf(dataSource));
    const options = dataSource.options as { url?: string; ssl?: ClientConfig['ssl'] };
    this.config = { connectionString: options.url, ssl: options.ssl || undefined, keepAlive: true };
  }

  /** Listening now (notifications arrive); false while (re)connecting. */
  get live(): boolean {
    return this.connected;
  }

  start(): void {
    void this.connect();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.connected = false;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new Client(this.config);
    this.client = client;
    let dropped = false;
    const drop = (reason: unknown) => {
      if (dropped) return;
      dropped = true;
      this.connected = false;
      client.removeAllListeners('notification');
      void client.end().catch(() => undefined);
      if (this.closed || this.client !== client) return;
      this.client = undefined;
      this.logger.warn(`checkpoint notifications lost (${String(reason)}); listening again in ${LISTENER_RETRY_MS} ms`);
      this.retry = setTimeout(() => void this.connect(), LISTENER_RETRY_MS);
      this.retry.unref();
    };
    client.on('error', drop);
    client.on('end', () => drop('connection ended'));
    client.on('notification', (n: Notification) => {
      const parsed = n.channel === this.channel ? parseCheckpointPayload(n.payload) : undefined;
      if (parsed) this.handlers.committed(parsed.projection, parsed.sequence);
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel.replace(/"/g, '""')}"`);
    } catch (error) {
      drop(error);
      return;
    }
    if (this.closed || dropped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.connected = true;
    this.handlers.listening();
  }
}
