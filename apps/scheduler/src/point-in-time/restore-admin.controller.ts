import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CairnError } from '@cairn/protocol';
import { Access } from '@cairn/service-kit';
import { SweepQueue } from '../sweep/sweep.queue';
import { RestoreQueue } from './restore.queue';
import { RestoreRequestDto } from './restore.request.dto';

/** Point-in-time restore jobs and what the restore window costs (docs/backups.md). */
@ApiTags('admin')
@ApiBearerAuth()
@Access('operator')
@Controller('admin')
export class RestoreAdminController {
  constructor(
    private readonly restores: RestoreQueue,
    private readonly sweep: SweepQueue,
  ) {}

  @Post('restore')
  @HttpCode(202)
  @ApiOperation({ summary: 'Restore a bucket (or a prefix) to a moment, in place or into another bucket (to): a job; answers its report' })
  async restore(@Body() dto: RestoreRequestDto) {
    const at = new Date(Date.parse(dto.at)).toISOString();
    return this.restores.request({ bucket: dto.bucket, at, ...(dto.prefix ? { prefix: dto.prefix } : {}), ...(dto.to ? { to: dto.to } : {}) });
  }

  @Get('restore')
  @ApiOperation({ summary: 'The latest restore jobs, newest first' })
  async list() {
    return { restores: await this.restores.recent() };
  }

  @Get('restore/:id')
  @ApiOperation({ summary: 'One restore job: state, keys done/total, ETA, versions put back, keys deleted, failures' })
  async one(@Param('id') id: string) {
    const report = await this.restores.report(id);
    if (!report) throw new CairnError('NoSuchRestore', `no restore ${id}`, { id });
    return report;
  }

  @Get('restore-window')
  @ApiOperation({ summary: 'How far back point-in-time restore reaches, and the bytes garbage collection keeps for it (as the last complete sweep found)' })
  async restoreWindow() {
    const { lastComplete } = await this.sweep.reports();
    const windowMs = this.restores.restoreWindowMs;
    return {
      windowMs,
      oldestRestorableAt: new Date(Date.now() - windowMs).toISOString(),
      retainedChunks: lastComplete?.restoreWindow?.retainedChunks ?? null,
      retainedBytes: lastComplete?.restoreWindow?.retainedBytes ?? null,
      measuredAt: lastComplete?.finishedAt ?? null,
    };
  }
}
