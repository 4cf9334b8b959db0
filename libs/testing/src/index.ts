export * from './lib/namespaces';
export * from './lib/service-boot.spec-helper';
export * from './lib/compose.spec-helper';
export * from './lib/service-process';
export * from './lib/cluster-auth.spec-helper';
export * from './lib/stream-contents.spec-helper';
export * from './lib/nats-server.spec-helper';
export * from './lib/ports';
