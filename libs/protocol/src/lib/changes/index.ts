export * from './change-record';
export * from './change-feed.contract';
