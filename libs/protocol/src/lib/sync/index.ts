export * from './federation.contract';
export * from './anti-entropy.contract';
