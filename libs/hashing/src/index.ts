export * from './lib/content-hash';
export * from './lib/object-key-id';
export * from './lib/hash-ring';
export * from './lib/migration-plan';
export * from './lib/hlc';
export * from './lib/version-vector';
export * from './lib/merkle-tree';
export * from './lib/crc-combine';
