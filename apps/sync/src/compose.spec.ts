import { describeComposeEntries } from '@cairn/testing';
import { SyncService } from './service';

describeComposeEntries(SyncService, { instances: 1 });
