import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Access } from '@cairn/service-kit';
import type { RegionFigures } from './region-figures';
import { RegionFiguresService } from './region-figures.service';

@ApiTags('figures')
@ApiBearerAuth()
@Access('operator')
@Controller('figures')
export class FiguresController {
  constructor(private readonly figures: RegionFiguresService) {}

  @Get()
  @ApiOperation({ summary: 'The region as monitoring sees it: instances (health, disk, load, last scrape), traffic per service (rate, 5xx ratio, p50/p99), projection lag, the scheduler’s under-replicated bytes and scrub coverage, replication lag per source region and the control group (from sync)' })
  current(): RegionFigures {
    return this.figures.current();
  }
}
