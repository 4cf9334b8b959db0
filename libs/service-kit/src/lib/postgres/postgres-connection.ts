import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { DataSource, type DataSourceOptions, type EntitySchema, type MixedList } from 'typeorm';

export const POSTGRES_RETRY_MS = 2_000;

export interface PostgresOptions {
  readonly url: string;
  /** Postgres schema holding this service's tables; one per namespace keeps test runs apart. */
  readonly schema: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  readonly entities?: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  readonly migrations?: MixedList<Function | string>;
  readonly poolSize?: number;
}

export function schemaForNamespace(service: string, namespace: string): string {
  const name = namespace ? `${service}_${namespace}` : service;
  return name.toLowerCase().replace(/[^a-z0-9_]/g, '_');
}

/**
 * A TypeORM DataSource that comes up when Postgres does: the service boots without it, reports
 * "down" on /health, and retries in the background. Migrations run on connect (never synchronize).
 */
export class PostgresConnection {
  private readonly logger = new Logger('Postgres');
  private dataSource: DataSource | undefined;
  private readonly readyPromise: Promise<DataSource>;
  private closed = false;
  private lastError: string | undefined;

  constructor(private readonly options: PostgresOptions) {
    this.readyPromise = this.connectWithRetry();
    this.readyPromise.catch(() => undefined);
  }

  ready(): Promise<DataSource> {
    return this.readyPromise;
  }

  current(): DataSource | undefined {
    return this.dataSource?.isInitialized ? this.dataSource : undefined;
  }

  get schema(): string {
    return this.options.schema;
  }

  async check(): Promise<Record<string, unknown>> {
    const ds = this.current();
    if (!ds) throw new Error(this.lastError ? `not connected: ${this.lastError}` : 'not connected yet');
    const started = process.hrtime.bigint();
    await ds.query('SELECT 1');
    return { schema: this.options.schema, rttMs: Number(process.hrtime.bigint() - started) / 1e6 };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.dataSource?.isInitialized) await this.dataSource.destroy();
  }

  private async connectWithRetry(): Promise<DataSource> {
    for (;;) {
      if (this.closed) throw new Error('closed');
      try {
        return await this.connect();
      } catch (error) {
        this.lastError = error instanceof Error ? error.message : String(error);
        this.logger.warn(`cannot reach Postgres (${this.lastError}); retrying in ${POSTGRES_RETRY_MS} ms`);
        await new Promise((r) => setTimeout(r, POSTGRES_RETRY_MS).unref());
      }
    }
  }

  private async connect(): Promise<DataSource> {
    const bootstrap = new Client({ connectionString: this.options.url });
    await bootstrap.connect();
    try {
      await bootstrap.query(`CREATE SCHEMA IF NOT EXISTS "${this.options.schema}"`);
    } finally {
      await bootstrap.end();
    }
    const options: DataSourceOptions = {
      type: 'postgres',
      url: this.options.url,
      schema: this.options.schema,
      entities: this.options.entities ?? [],
      migrations: this.options.migrations ?? [],
      migrationsTableName: 'migrations',
      synchronize: false,
      extra: { max: this.options.poolSize ?? 10, options: `-c search_path="${this.options.schema}"` },
    };
    const ds = new DataSource(options);
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
    this.dataSource = ds;
    this.lastError = undefined;
    return ds;
  }
}
