import { describeServiceBoot } from '@cairn/testing';
import { LockManagerService } from './service';

describeServiceBoot(LockManagerService, { dependencies: ['nats'] });
