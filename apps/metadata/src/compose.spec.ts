import { describeComposeEntries } from '@cairn/testing';
import { MetadataService } from './service';

describeComposeEntries(MetadataService, { instances: 1 });
