export * from './federation.contract';
export * from './anti-entropy.contract';
export * from './control-group.contract';
