export * from './lib/galois-field';
export * from './lib/gf-matrix';
export * from './lib/reed-solomon';
export * from './lib/stripe-geometry';
