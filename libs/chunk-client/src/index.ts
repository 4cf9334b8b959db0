export * from './lib/chunk-client';
export * from './lib/chunk-client.errors';
export * from './lib/replication-strategy';
export * from './lib/latency-tracker';
export * from './lib/under-replication-recorder.port';
export * from './lib/jetstream-under-replication.recorder';
