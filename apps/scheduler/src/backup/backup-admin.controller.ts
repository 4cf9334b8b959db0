import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CairnError } from '@cairn/protocol';
import { Access } from '@cairn/service-kit';
import { AddBackupTargetRequestDto, BackupTargetRequestDto } from './backup.request.dto';
import { BackupTargetsStore } from './backup-targets.store';
import { BackupQueue } from './backup.queue';

const DEFAULT_BYTES_PER_SECOND = 64 * 1024 * 1024;
const DEFAULT_KEEP = 24;
const DEFAULT_VERIFY_SAMPLE = 100;

/** Backup targets, backups, verification (docs/backups.md). */
@ApiTags('admin')
@ApiBearerAuth()
@Access('operator')
@Controller('admin/backup')
export class BackupAdminController {
  constructor(
    private readonly targets: BackupTargetsStore,
    private readonly backups: BackupQueue,
  ) {}

  @Get('targets')
  @ApiOperation({ summary: 'Backup targets (secrets never shown)' })
  async listTargets() {
    return { targets: await this.targets.list() };
  }

  @Post('targets')
  @ApiOperation({ summary: 'Add a backup target: a directory, or a bucket of an S3-compatible server (its secret sealed at rest); with everySeconds, backups run on a schedule keeping the newest `keep`' })
  async addTarget(@Body() dto: AddBackupTargetRequestDto) {
    const schedule = dto.everySeconds ? { everyMs: dto.everySeconds * 1000, keep: dto.keep ?? DEFAULT_KEEP } : null;
    const view = await this.targets.add({ ...dto, bytesPerSecond: dto.bytesPerSecond ?? DEFAULT_BYTES_PER_SECOND, schedule });
    await this.backups.schedule(view.name, schedule);
    return view;
  }

  @Delete('targets/:name')
  @ApiOperation({ summary: 'Forget a backup target (what it holds stays where it is)' })
  async removeTarget(@Param('name') name: string) {
    await this.targets.remove(name);
    await this.backups.schedule(name, null);
    return { removed: name };
  }

  @Post('run')
  @HttpCode(202)
  @ApiOperation({ summary: 'Back up to a target now (incremental after its latest backup); follow it with GET /admin/backup/runs' })
  run(@Body() dto: BackupTargetRequestDto) {
    return this.backups.request(dto.target, 'admin');
  }

  @Get('runs')
  @ApiOperation({ summary: 'The backup running now (phase, events, chunks done/total, rate, ETA) and the recent runs' })
  runs() {
    return this.backups.runs();
  }

  @Get('list')
  @ApiOperation({ summary: "A target's complete backups, oldest cut first (?target=)" })
  async list(@Query() query: BackupTargetRequestDto) {
    return { target: query.target, backups: await this.backups.list(query.target) };
  }

  @Post('restore')
  @HttpCode(202)
  @ApiOperation({ summary: 'Restore this empty region from a backup (default the latest): chunks back to the ring, events replayed into META; a job — follow it with GET /admin/backup/restore/:id' })
  restoreRegion(@Body() dto: BackupTargetRequestDto) {
    return this.backups.requestRegionRestore(dto.target, dto.backupId);
  }

  @Get('restore/:id')
  @ApiOperation({ summary: 'A region restore: phase, chunks and events done/total, ETA, and its duration (RTO) when done' })
  async regionRestore(@Param('id') id: string) {
    const report = await this.backups.regionRestoreReport(id);
    if (!report) throw new CairnError('NoSuchRestore', `no region restore ${id} (yet)`, { id });
    return report;
  }

  @Post('verify')
  @HttpCode(200)
  @ApiOperation({ summary: 'Re-read a backup (default the latest) from its target: every segment, the configuration, and a sample of the chunks the cut needs (sample=0: all)' })
  verify(@Body() dto: BackupTargetRequestDto) {
    const sample = dto.sample === undefined ? DEFAULT_VERIFY_SAMPLE : dto.sample === 0 ? 'all' : dto.sample;
    return this.backups.verify(dto.target, dto.backupId, sample);
  }
}
