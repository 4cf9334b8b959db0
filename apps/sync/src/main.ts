import { runService } from '@cairn/service-kit';
import { SyncService } from './service';

runService(SyncService);
