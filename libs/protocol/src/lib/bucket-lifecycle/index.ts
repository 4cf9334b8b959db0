export * from './bucket-lifecycle.config';
