export type { AccessKeyCreated, AccessKeyEvent, AccessKeyRevoked } from '@cairn/protocol';
