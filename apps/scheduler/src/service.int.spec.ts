import { describeServiceBoot } from '@cairn/testing';
import { SchedulerService } from './service';

describeServiceBoot(SchedulerService, { dependencies: ['nats', 'redis'], badValue: { variable: 'CAIRN_REDIS_URL', value: 'http://redis' } });
