import { describeComposeEntries } from '@cairn/testing';
import { SchedulerService } from './service';

describeComposeEntries(SchedulerService, { instances: 1 });
