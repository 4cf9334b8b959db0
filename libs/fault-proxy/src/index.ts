export * from './lib/fault-proxy';
export * from './lib/control-api';
export * from './lib/fault-proxy.client';
