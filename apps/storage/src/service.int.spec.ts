import { describeServiceBoot } from '@cairn/testing';
import { StorageService } from './service';

describeServiceBoot(StorageService, { dependencies: ['nats'] });
