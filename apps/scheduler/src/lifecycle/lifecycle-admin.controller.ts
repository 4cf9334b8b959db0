import { Body, Controller, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CairnError } from '@cairn/protocol';
import { Access } from '@cairn/service-kit';
import { LIFECYCLE_WAIT_MAX_MS, LifecycleQueue } from './lifecycle.queue';
import { LifecycleRunRequestDto } from './lifecycle.request.dto';

/** Lifecycle passes: run one now (as of a given moment, or as a dry run) and read their reports (docs/lifecycle.md). */
@ApiTags('admin')
@ApiBearerAuth()
@Access('operator')
@Controller('admin/lifecycle')
export class LifecycleAdminController {
  constructor(private readonly lifecycle: LifecycleQueue) {}

  @Post('run')
  @HttpCode(200)
  @ApiOperation({ summary: 'Run a lifecycle pass now, optionally for one bucket and as of another moment (now); dryRun lists what would be done; wait answers once it is over' })
  async run(@Body() dto: LifecycleRunRequestDto, @Res({ passthrough: true }) res: Response) {
    // The caller went away before the answer: stop waiting (a queued pass runs on regardless).
    const closed = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) closed.abort();
    });
    const report = await this.lifecycle.run({ ...(dto.bucket ? { bucket: dto.bucket } : {}), ...(dto.now ? { now: dto.now } : {}), ...(dto.dryRun ? { dryRun: true } : {}) }, closed.signal);
    if (dto.dryRun || !dto.wait) return report;
    return (await this.lifecycle.waitFor(report.id, LIFECYCLE_WAIT_MAX_MS, closed.signal)) ?? report;
  }

  @Get()
  @ApiOperation({ summary: 'The pass running now, the last one, and the latest runs' })
  reports() {
    return this.lifecycle.reports();
  }

  @Get('runs/:id')
  @ApiOperation({ summary: 'One pass: counts of keys, versions and uploads scanned, of each action, of changes skipped and failures' })
  async one(@Param('id') id: string) {
    const report = await this.lifecycle.report(id);
    if (!report) throw new CairnError('NoSuchLifecycleRun', `no lifecycle run ${id}`, { id });
    return report;
  }
}
