export * from './lib/namespaces';
export * from './lib/service-boot.spec-helper';
