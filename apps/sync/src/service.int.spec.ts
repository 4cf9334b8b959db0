import { describeServiceBoot } from '@cairn/testing';
import { SyncService } from './service';

describeServiceBoot(SyncService, { dependencies: ['nats'] });
