import { runService } from '@cairn/service-kit';
import { MonitoringService } from './service';

runService(MonitoringService);
