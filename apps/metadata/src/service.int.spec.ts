import { describeServiceBoot } from '@cairn/testing';
import { MetadataService } from './service';

describeServiceBoot(MetadataService, {
  dependencies: ['nats', 'postgres'],
  badValue: { variable: 'CAIRN_DATABASE_URL', value: 'mysql://nope' },
});
