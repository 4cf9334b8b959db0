import { runService } from '@cairn/service-kit';
import { StorageService } from './service';

runService(StorageService);
