export * from './acl.types';
export * from './acl';
