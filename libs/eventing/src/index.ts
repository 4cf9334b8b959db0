export * from './lib/decider';
export * from './lib/event-store.port';
export * from './lib/in-memory-event-store';
export * from './lib/command-handler';
export * from './lib/projection';
export * from './lib/decider-specification';
