import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Access } from '@cairn/service-kit';
import { HeartbeatWatcher, type InstanceView } from './heartbeat-watcher.service';

@ApiTags('cluster')
@Access('operator')
@Controller()
export class ClusterController {
  constructor(private readonly watcher: HeartbeatWatcher) {}

  @Get('cluster/instances')
  @ApiOperation({ summary: 'Every service instance heard from, with the failure detector’s verdict and its last heartbeat' })
  instances(): { leader: boolean; instances: InstanceView[] } {
    return { leader: this.watcher.leading, instances: this.watcher.instances() };
  }
}
