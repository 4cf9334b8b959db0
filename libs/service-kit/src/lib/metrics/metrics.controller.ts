import { Controller, Get, Header } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Access } from '../security/route-access';
import { MetricsService } from './metrics.service';

@ApiTags('operations')
@Access('metrics')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOperation({ summary: 'Prometheus metrics in text format' })
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
