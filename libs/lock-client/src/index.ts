export * from './lib/lock-client';
