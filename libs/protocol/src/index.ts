export * from './lib/envelope';
export * from './lib/upcasting';
export * from './lib/errors';
export * from './lib/subjects';
export * from './lib/heartbeat';
export * from './lib/metadata';
export * from './lib/cluster/chunk-health.events';
export * from './lib/cluster/instance-health.events';
