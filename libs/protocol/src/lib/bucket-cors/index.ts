export * from './bucket-cors.config';
export * from './bucket-cors.match';
