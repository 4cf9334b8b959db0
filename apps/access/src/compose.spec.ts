import { describeComposeEntries } from '@cairn/testing';
import { AccessService } from './service';

describeComposeEntries(AccessService, { instances: 1 });
