export * from './lib/messaging.config';
export * from './lib/nats-connection';
export * from './lib/stream-provisioning';
export * from './lib/jetstream-event-store';
export * from './lib/rpc';
export * from './lib/dead-letter';
export * from './lib/jetstream.transport';
export * from './lib/rpc-exception.filter';
