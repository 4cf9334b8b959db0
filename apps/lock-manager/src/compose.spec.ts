import { describeComposeEntries } from '@cairn/testing';
import { LockManagerService } from './service';

describeComposeEntries(LockManagerService, { instances: 3 });
