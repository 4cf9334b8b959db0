import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { metadataPattern, MetadataRpc, type ProjectionStatusReply } from '@cairn/protocol';
import { ProjectionTracker } from './projection-tracker';

/** projection.status: checkpoint, stream last sequence and lag of each projected stream. */
@Controller()
export class ProjectionRpcController {
  constructor(private readonly projection: ProjectionTracker) {}

  @MessagePattern(metadataPattern(MetadataRpc.projectionStatus))
  async projectionStatus(): Promise<ProjectionStatusReply> {
    return { streams: await this.projection.status() };
  }
}
