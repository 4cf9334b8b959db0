import { runService } from '@cairn/service-kit';
import { AccessService } from './service';

runService(AccessService);
