import { runService } from '@cairn/service-kit';
import { SchedulerService } from './service';

runService(SchedulerService);
