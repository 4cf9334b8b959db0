import { describeServiceBoot } from '@cairn/testing';
import { MonitoringService } from './service';

describeServiceBoot(MonitoringService, { dependencies: ['nats'], badValue: { variable: 'CAIRN_REGION', value: 'Bad Region!' } });
