import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown, type OnModuleInit, type Provider } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { JetStreamEventStore, NatsConnectionManager, natsSecurityProblems, RpcClient, type MessagingConfig } from '@cairn/messaging';
import { ConfigError, type BaseServiceConfig } from './config/service-config';
import { EventClock } from './event-clock';
import { HealthController } from './health/health.controller';
import { HealthRegistry } from './health/health-registry';
import { HeartbeatService } from './heartbeat/heartbeat.service';
import { MetricsController } from './metrics/metrics.controller';
import { MetricsService } from './metrics/metrics.service';
import { ClusterCredentials } from './security/cluster-credentials';
import { PostgresConnection, schemaForNamespace, type PostgresOptions } from './postgres/postgres-connection';
import { RedisConnection, redisPrefixForNamespace } from './redis/redis-connection';
import { SERVICE_CONFIG, SERVICE_IDENTITY, type ServiceIdentity } from './service-identity';
import { registerWorkerMetrics } from './workers/worker-metrics';
import { WorkerRegistry } from './workers/worker-registry';

export const NATS_PING_TIMEOUT_MS = 1_000;

export interface ServiceKitOptions {
  readonly identity: ServiceIdentity;
  readonly config: BaseServiceConfig;
  /** Postgres for services that keep projections; its readiness joins /health. */
  readonly postgres?: Omit<PostgresOptions, 'schema'> & { readonly schema?: string };
  /** Redis for services that keep queues or caches; its readiness joins /health. */
  readonly redis?: { readonly url: string; readonly tlsCaFile?: string };
}

/** Registers the dependency checks and the workers' figures; closes connections after the transports have drained. */
class ServiceKitLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    private readonly nats: NatsConnectionManager,
    private readonly health: HealthRegistry,
    private readonly metrics: MetricsService,
    private readonly workers: WorkerRegistry,
    @Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity,
    private readonly postgres: PostgresConnection | null,
    private readonly redis: RedisConnection | null,
  ) {}

  onModuleInit(): void {
    this.metrics.setDefaultLabels({ service: this.identity.service, instance: this.identity.instance, region: this.identity.region });
    this.health.register('nats', async () => ({ connection: this.nats.status, rttMs: await this.nats.ping(NATS_PING_TIMEOUT_MS) }));
    if (this.postgres) this.health.register('postgres', () => this.postgres!.check());
    if (this.redis) this.health.register('redis', () => this.redis!.check());
    this.health.registerInfo('workers', () => this.workers.list());
    registerWorkerMetrics(this.metrics.registry, this.workers);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis?.close();
    await this.postgres?.close();
    await this.nats.close();
  }
}

/** How a service names itself when it signs: `<service>/<instance>`. */
export function callerOf(identity: ServiceIdentity): string {
  return `${identity.service}/${identity.instance}`;
}

/** How a service's NATS connection and JetStream transport address the cluster: its identity, the configured URL, credentials, TLS and replicas. */
export function messagingConfigOf(identity: ServiceIdentity, config: BaseServiceConfig): MessagingConfig {
  const messaging: MessagingConfig = {
    natsUrl: config.CAIRN_NATS_URL,
    namespace: identity.namespace,
    region: identity.region,
    serviceName: identity.service,
    instance: identity.instance,
    streamReplicas: config.CAIRN_STREAM_REPLICAS,
    natsUser: config.CAIRN_NATS_USER,
    natsPassword: config.CAIRN_NATS_PASSWORD,
    natsToken: config.CAIRN_NATS_TOKEN,
    natsCredsFile: config.CAIRN_NATS_CREDS_FILE,
    natsNkeySeedFile: config.CAIRN_NATS_NKEY_SEED_FILE,
    natsTlsCaFile: config.CAIRN_NATS_TLS_CA_FILE,
    natsTlsCertFile: config.CAIRN_NATS_TLS_CERT_FILE,
    natsTlsKeyFile: config.CAIRN_NATS_TLS_KEY_FILE,
  };
  // Credentials that contradict each other, or files that cannot be read, stop the service at start
  // with the variable to fix, rather than leaving it retrying a login that cannot succeed.
  const problems = natsSecurityProblems(messaging);
  if (problems.length > 0) throw new ConfigError(problems);
  return messaging;
}

/**
 * What every Cairn service stands on: validated config, identity, the NATS connection with the
 * JetStream event store and RPC client, health, metrics, the worker registry and heartbeat. Global, so use-case
 * modules inject these without importing anything.
 */
@Global()
@Module({})
export class ServiceKitModule {
  static forRoot(options: ServiceKitOptions): DynamicModule {
    const { identity, config } = options;
    const nats = new NatsConnectionManager(messagingConfigOf(identity, config));
    const credentials = ClusterCredentials.fromConfig(config, callerOf(identity));
    const postgres = options.postgres
      ? new PostgresConnection({ ...options.postgres, schema: options.postgres.schema ?? schemaForNamespace(identity.service, identity.namespace) })
      : null;
    const redis = options.redis ? new RedisConnection({ ...options.redis, keyPrefix: redisPrefixForNamespace(identity.namespace) }) : null;
    const providers: Provider[] = [
      { provide: SERVICE_IDENTITY, useValue: identity },
      { provide: SERVICE_CONFIG, useValue: config },
      { provide: NatsConnectionManager, useValue: nats },
      { provide: JetStreamEventStore, useValue: new JetStreamEventStore(nats, identity.namespace) },
      { provide: ClusterCredentials, useValue: credentials },
      { provide: RpcClient, useValue: new RpcClient(nats, identity.namespace, credentials) },
      { provide: PostgresConnection, useValue: postgres },
      { provide: RedisConnection, useValue: redis },
      HealthRegistry,
      MetricsService,
      WorkerRegistry,
      HeartbeatService,
      EventClock,
      {
        provide: ServiceKitLifecycle,
        inject: [NatsConnectionManager, HealthRegistry, MetricsService, WorkerRegistry, SERVICE_IDENTITY],
        useFactory: (n: NatsConnectionManager, h: HealthRegistry, m: MetricsService, w: WorkerRegistry, i: ServiceIdentity) =>
          new ServiceKitLifecycle(n, h, m, w, i, postgres, redis),
      },
    ];
    return {
      module: ServiceKitModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController, MetricsController],
      providers,
      exports: [SERVICE_IDENTITY, SERVICE_CONFIG, ClusterCredentials, NatsConnectionManager, JetStreamEventStore, RpcClient, PostgresConnection, RedisConnection, HealthRegistry, MetricsService, WorkerRegistry, HeartbeatService, EventClock],
    };
  }
}
