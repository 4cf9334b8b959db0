import { BaseServiceConfig } from '@cairn/service-kit';

export class MonitoringConfig extends BaseServiceConfig {}
