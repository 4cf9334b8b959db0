export * from './bucket-lifecycle.config';
export * from './lifecycle-versions.contract';
