import { BaseServiceConfig } from '@cairn/service-kit';

export class AccessConfig extends BaseServiceConfig {}
