import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AntiEntropyStatusView } from '@cairn/protocol';
import { Access } from '@cairn/service-kit';
import { AntiEntropyService } from './anti-entropy.service';
import { RunAntiEntropyRequestDto } from './run-anti-entropy.request.dto';

/** The operator's view of anti-entropy between regions, and a way to run it now. */
@ApiTags('replication')
@ApiBearerAuth()
@Access('operator')
@Controller('replication/anti-entropy')
export class AntiEntropyController {
  constructor(private readonly antiEntropy: AntiEntropyService) {}

  @Get()
  @ApiOperation({ summary: 'Anti-entropy progress and the last report per bucket and peer region: ranges compared, keys differing, events applied, duration, errors' })
  status(): AntiEntropyStatusView {
    return this.antiEntropy.view();
  }

  @Post()
  @HttpCode(202)
  @ApiOperation({ summary: 'Compare and repair now: one bucket or every replicated one, against one peer or all (421 NOT_LEADER on an instance not holding the lease)' })
  run(@Body() dto: RunAntiEntropyRequestDto): { queued: string[] } {
    return { queued: this.antiEntropy.requestRun({ ...(dto.bucket ? { bucket: dto.bucket } : {}), ...(dto.peer ? { peer: dto.peer } : {}) }) };
  }
}
