import { BaseServiceConfig } from '@cairn/service-kit';

export class SyncConfig extends BaseServiceConfig {}
