import { describeServiceBoot } from '@cairn/testing';
import { AccessService } from './service';

describeServiceBoot(AccessService, { dependencies: ['nats'] });
