export * from './lib/drill-report';
export * from './lib/drill-run';
export * from './lib/drill-federation';
