import 'reflect-metadata';
import { plainToInstance, Type } from 'class-transformer';
import { DEFAULT_REPLICATION_FACTOR, MAX_REPLICATION_FACTOR } from '@cairn/protocol';
import { isSecretName } from '../logging/redaction';
import { IsIn, IsInt, IsNumber, IsOptional, IsString, Matches, Max, Min, MinLength, validateSync, type ValidationError } from 'class-validator';

const NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
const REPLICATION_FACTOR_MESSAGE = `must be a whole number of copies from 1 to ${MAX_REPLICATION_FACTOR} (3 unless set)`;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

/**
 * The environment every service reads. Property names are the variable names, so a validation
 * failure names exactly the variable to fix. Services extend this with their own.
 */
export class BaseServiceConfig {
  @IsString()
  @Matches(NAME_PATTERN, { message: 'must be lowercase letters, digits and "-", starting with a letter or digit' })
  CAIRN_REGION = 'region-1';

  @IsOptional()
  @IsString()
  @Matches(NAME_PATTERN, { message: 'must be lowercase letters, digits and "-", starting with a letter or digit' })
  CAIRN_INSTANCE?: string;

  @IsString()
  @Matches(/^[A-Za-z0-9_-]{0,32}$/, { message: 'must be 0-32 letters, digits, "_" or "-"' })
  CAIRN_NS = '';

  @IsString()
  @Matches(/^nats:\/\/[^\s,]+(,nats:\/\/[^\s,]+)*$/, { message: 'must be nats://host:port (comma-separated for a cluster)' })
  CAIRN_NATS_URL = 'nats://127.0.0.1:4222';

  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  CAIRN_HTTP_PORT!: number;

  @IsString()
  CAIRN_HTTP_HOST = '0.0.0.0';

  @IsIn(LOG_LEVELS)
  CAIRN_LOG_LEVEL: (typeof LOG_LEVELS)[number] = 'info';

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(5)
  CAIRN_STREAM_REPLICAS = 1;

  /**
   * The region's replication factor (docs/storage-classes.md): the whole copies of each STANDARD
   * chunk, written at a majority; REDUCED_REDUNDANCY keeps min(2, it). Every service of a region
   * must be given the same value: the gateway writes it, metadata and the scheduler repair to it.
   */
  @Type(() => Number)
  @IsInt({ message: REPLICATION_FACTOR_MESSAGE })
  @Min(1, { message: REPLICATION_FACTOR_MESSAGE })
  @Max(MAX_REPLICATION_FACTOR, { message: REPLICATION_FACTOR_MESSAGE })
  CAIRN_REPLICATION_FACTOR = DEFAULT_REPLICATION_FACTOR;

  /**
   * The secret every service of the cluster shares: internal HTTP requests, NATS requests and
   * heartbeats are signed with keys derived from it, and operator tokens too. Required (this or
   * CAIRN_CLUSTER_SECRET_FILE); `npm start` generates one for development.
   */
  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'must be at least 32 characters (generate one with: openssl rand -base64 32)' })
  CAIRN_CLUSTER_SECRET?: string;

  /** A file holding the cluster secret (a mounted secret), read once at start. */
  @IsOptional()
  @IsString()
  CAIRN_CLUSTER_SECRET_FILE?: string;

  /** How far a signed internal request's time may be from this server's clock (and how long its nonce is remembered). */
  @Type(() => Number)
  @IsInt()
  @Min(1_000)
  @Max(600_000)
  CAIRN_AUTH_MAX_SKEW_MS = 30_000;

  /**
   * The format this service signs NATS messages in; both are always accepted. v1 only while
   * services older than v2 still run (a rolling upgrade), then v2: one HMAC pass over the payload.
   */
  @IsIn(['v1', 'v2'])
  CAIRN_MESSAGE_SIGNATURE_VERSION: 'v1' | 'v2' = 'v2';

  /** `token`: /metrics needs an operator token (or a cluster signature); `public`: anyone may scrape it. */
  @IsIn(['token', 'public'])
  CAIRN_METRICS_AUTH: 'token' | 'public' = 'token';

  /** HTTPS: the service's certificate chain and key (PEM files, both or neither). */
  @IsOptional()
  @IsString()
  CAIRN_TLS_CERT_FILE?: string;

  @IsOptional()
  @IsString()
  CAIRN_TLS_KEY_FILE?: string;

  /** The CA (PEM) this service trusts when it calls other services over HTTPS, besides the system's. */
  @IsOptional()
  @IsString()
  CAIRN_TLS_CA_FILE?: string;

  /*
   * NATS credentials, where the server asks for them: a user and password, a token, a .creds file
   * (user JWT and nkey seed) or an nkey seed file; at most one way. Combinations and files are
   * checked when the service is built (messagingConfigOf); docs/security.md has the details.
   */
  @IsOptional()
  @IsString()
  CAIRN_NATS_USER?: string;

  @IsOptional()
  @IsString()
  CAIRN_NATS_PASSWORD?: string;

  @IsOptional()
  @IsString()
  CAIRN_NATS_TOKEN?: string;

  @IsOptional()
  @IsString()
  CAIRN_NATS_CREDS_FILE?: string;

  @IsOptional()
  @IsString()
  CAIRN_NATS_NKEY_SEED_FILE?: string;

  /** TLS to NATS: any of these requires it; the CA checks the server, the certificate and key (both or neither) identify this client. */
  @IsOptional()
  @IsString()
  CAIRN_NATS_TLS_CA_FILE?: string;

  @IsOptional()
  @IsString()
  CAIRN_NATS_TLS_CERT_FILE?: string;

  @IsOptional()
  @IsString()
  CAIRN_NATS_TLS_KEY_FILE?: string;

  /**
   * Traces (docs/observability.md): off unless set; then spans go over OTLP/HTTP (JSON) to this
   * collector, e.g. http://127.0.0.1:4318 (`/v1/traces` is added unless the URL names a path).
   */
  @IsOptional()
  @IsString()
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'must be an http:// or https:// URL, e.g. http://127.0.0.1:4318' })
  CAIRN_OTLP_ENDPOINT?: string;

  /** Share of new traces kept, 0 to 1 (a request continuing a caller's trace follows the caller's choice). */
  @Type(() => Number)
  @IsNumber()
  @Min(0)
  @Max(1)
  CAIRN_TRACE_SAMPLE_RATIO = 1;

  /** Longest a finished span waits before it is sent (spans go in batches). */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(60_000)
  CAIRN_OTLP_EXPORT_DELAY_MS = 5_000;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

function describe(errors: readonly ValidationError[], env: Record<string, string | undefined>): string[] {
  return errors.flatMap((e) => {
    const given = env[e.property];
    // A secret's value never reaches the error line (it may be logged or shown on a console).
    const shown = given === undefined ? 'is missing' : isSecretName(e.property) ? 'is set' : `is "${given}"`;
    const reasons = Object.values(e.constraints ?? {}).map((r) => r.replace(new RegExp(`^${e.property} `), ''));
    return [`${e.property} ${shown}: ${reasons.join(', ')}`];
  });
}

/**
 * Reads and validates a config class from the environment. Variables the class does not declare
 * are ignored (the environment holds much else); declared ones must be valid.
 */
export function loadConfig<T extends BaseServiceConfig>(
  configClass: new () => T,
  env: Record<string, string | undefined> = process.env,
  defaults: Partial<Record<keyof T, unknown>> = {},
): T {
  const declared = Object.keys(new configClass());
  const relevant: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && value !== '' && (declared.includes(key) || key.startsWith('CAIRN_'))) relevant[key] = value;
  }
  // CAIRN_NS may legitimately be empty.
  if (env['CAIRN_NS'] === '') relevant['CAIRN_NS'] = '';
  const instance = plainToInstance(configClass, relevant, { exposeDefaultValues: true });
  const errors = validateSync(instance, { whitelist: false, forbidUnknownValues: true, stopAtFirstError: true });
  if (errors.length > 0) throw new ConfigError(describe(errors, env));
  return instance;
}
