export type { AccessKeyCommand, CreateAccessKey, RevokeAccessKey } from '@cairn/protocol';
