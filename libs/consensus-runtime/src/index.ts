export * from './lib/record-codec';
export * from './lib/file-log.adapter';
export * from './lib/snapshot-store.adapter';
export * from './lib/raft-transport.port';
export * from './lib/nats-raft-transport.adapter';
export * from './lib/raft-driver';
