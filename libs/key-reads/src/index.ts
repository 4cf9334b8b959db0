export * from './lib/metadata-error';
export * from './lib/object-read-names';
export * from './lib/object-key.reading';
export * from './lib/bucket-incarnation';
export * from './lib/lru-byte-cache';
export * from './lib/caching-event-store';
export * from './lib/folded-state.cache';
export * from './lib/bucket-reading';
