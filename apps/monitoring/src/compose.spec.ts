import { describeComposeEntries } from '@cairn/testing';
import { MonitoringService } from './service';

describeComposeEntries(MonitoringService, { instances: 1 });
