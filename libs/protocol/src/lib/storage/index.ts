export * from './storage-data-plane.contract';
export * from './storage-error-codes';
