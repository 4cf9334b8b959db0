import { runService } from '@cairn/service-kit';
import { MetadataService } from './service';

runService(MetadataService);
