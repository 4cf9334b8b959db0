export type { AccessKeyCreated, AccessKeyEvent, AccessKeyRevoked, AccessKeySecretResealed } from '@cairn/protocol';
