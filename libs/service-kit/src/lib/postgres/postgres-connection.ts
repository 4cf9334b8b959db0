import { Logger } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { Client } from 'pg';
import { DataSource, type DataSourceOptions, type EntitySchema, type MixedList } from 'typeorm';
import { ConfigError } from '../config/service-config';

export const POSTGRES_RETRY_MS = 2_000;

/**
 * TLS to Postgres (CAIRN_DATABASE_TLS): `disable` (plain, unless the URL's own sslmode asks),
 * `require` (encrypted, the server's certificate not checked), `verify-full` (encrypted, the
 * certificate checked against CAIRN_DATABASE_TLS_CA_FILE, or the system CAs, and the host name).
 */
export const POSTGRES_TLS_MODES = ['disable', 'require', 'verify-full'] as const;
export type PostgresTlsMode = (typeof POSTGRES_TLS_MODES)[number];

export interface PostgresTls {
  readonly mode: PostgresTlsMode;
  /** PEM file of the CA that signed the server's certificate (verify-full only). */
  readonly caFile?: string;
}

/** What pg and TypeORM take as `ssl`. */
export type PostgresSsl = false | { readonly rejectUnauthorized: boolean; readonly ca?: string };

const URL_SSL_PARAMETERS = /[?&](sslmode|ssl|sslrootcert|sslcert|sslkey)=/i;

/**
 * The `ssl` option for a connection to `url`. Throws ConfigError naming the variable when the
 * settings contradict each other (pg lets the URL's sslmode win over `ssl` silently) or the CA
 * cannot be read.
 */
export function postgresSsl(url: string, tls: PostgresTls | undefined): PostgresSsl {
  const mode = tls?.mode ?? 'disable';
  if (tls?.caFile && mode !== 'verify-full') {
    throw new ConfigError([`CAIRN_DATABASE_TLS_CA_FILE is "${tls.caFile}": it is used only with CAIRN_DATABASE_TLS=verify-full (CAIRN_DATABASE_TLS is "${mode}")`]);
  }
  if (mode === 'disable') return false;
  if (URL_SSL_PARAMETERS.test(url)) {
    throw new ConfigError([`CAIRN_DATABASE_TLS is "${mode}": CAIRN_DATABASE_URL sets TLS itself (sslmode=…); set it in one place`]);
  }
  if (mode === 'require') return { rejectUnauthorized: false };
  if (!tls?.caFile) return { rejectUnauthorized: true };
  try {
    return { rejectUnauthorized: true, ca: readFileSync(tls.caFile, 'utf8') };
  } catch (error) {
    throw new ConfigError([`CAIRN_DATABASE_TLS_CA_FILE is "${tls.caFile}": cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`]);
  }
}

export interface PostgresOptions {
  readonly url: string;
  /** Postgres schema holding this service's tables; one per namespace keeps test runs apart. */
  readonly schema: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  readonly entities?: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  readonly migrations?: MixedList<Function | string>;
  readonly poolSize?: number;
  /** TLS to the server; none by default. */
  readonly tls?: PostgresTls;
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
  private readonly ssl: PostgresSsl;

  constructor(private readonly options: PostgresOptions) {
    // Read once, here: a bad TLS setting stops the service at start instead of failing every retry.
    this.ssl = postgresSsl(options.url, options.tls);
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
    const bootstrap = new Client({ connectionString: this.options.url, ssl: this.ssl || undefined });
    await bootstrap.connect();
    try {
      await bootstrap.query(`CREATE SCHEMA IF NOT EXISTS "${this.options.schema}"`);
    } finally {
      await bootstrap.end();
    }
    const options: DataSourceOptions = {
      type: 'postgres',
      url: this.options.url,
      ssl: this.ssl || undefined,
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
