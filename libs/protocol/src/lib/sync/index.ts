export * from './federation.contract';
