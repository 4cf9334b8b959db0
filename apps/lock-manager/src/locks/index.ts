export * from './locks.module';
export * from './lock-raft-node.service';
export * from './locks.service';
