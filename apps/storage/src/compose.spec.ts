import { describeComposeEntries } from '@cairn/testing';
import { StorageService } from './service';

describeComposeEntries(StorageService, { instances: 3 });
