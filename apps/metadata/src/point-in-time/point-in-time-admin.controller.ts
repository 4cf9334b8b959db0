import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Access } from '@cairn/service-kit';
import { PointInTimeService } from './point-in-time.service';

/**
 * The past on the operator's HTTP API: what a bucket held, and what one key was, at a moment
 * (`?at=<ISO 8601>`), so an operator can see what a restore would bring back before doing it.
 */
@ApiTags('admin')
@ApiBearerAuth()
@Access('operator')
@Controller('admin')
export class PointInTimeAdminController {
  constructor(private readonly pointInTime: PointInTimeService) {}

  @Get('buckets/:name/objects')
  @ApiOperation({ summary: 'Live objects of a bucket as of a moment (from the event log), in key order; a page ends with nextAfter' })
  @ApiQuery({ name: 'at', required: true, description: 'ISO 8601 instant, e.g. 2026-12-02T16:00:00Z' })
  @ApiQuery({ name: 'prefix', required: false })
  @ApiQuery({ name: 'after', required: false })
  @ApiQuery({ name: 'limit', required: false })
  listAt(@Param('name') name: string, @Query('at') at: string, @Query('prefix') prefix?: string, @Query('after') after?: string, @Query('limit') limit?: string) {
    return this.pointInTime.list({ bucket: name, at, ...(prefix ? { prefix } : {}), ...(after ? { after } : {}), ...(limit ? { limit: Number(limit) } : {}) });
  }

  @Get('buckets/:name/object')
  @ApiOperation({ summary: 'One key as of a moment: the version current then (or the one named), with its chunk list' })
  @ApiQuery({ name: 'key', required: true })
  @ApiQuery({ name: 'at', required: true })
  @ApiQuery({ name: 'versionId', required: false })
  headAt(@Param('name') name: string, @Query('key') key: string, @Query('at') at: string, @Query('versionId') versionId?: string) {
    return this.pointInTime.head({ bucket: name, key, at, ...(versionId ? { versionId } : {}) });
  }
}
