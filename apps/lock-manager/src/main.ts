import { runService } from '@cairn/service-kit';
import { LockManagerService } from './service';

runService(LockManagerService);
