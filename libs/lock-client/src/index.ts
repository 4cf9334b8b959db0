export * from './lib/lock.contract';
export * from './lib/lock-client';
