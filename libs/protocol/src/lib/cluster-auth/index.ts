export * from './cluster-keys';
export * from './replay-window';
export * from './request-signature';
export * from './message-signature';
export * from './operator-token';
