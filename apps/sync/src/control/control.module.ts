import { Body, Controller, Get, HttpCode, Module, Param, Post } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CairnError, MetadataErrorCodes, syncPattern, SyncRpc, type BucketAuthority, type BucketRoute, type ControlGroupView, type DrillClaim, type DrillReport, type ReplicaPosition, type SwitchoverReply } from '@cairn/protocol';
import { Access } from '@cairn/service-kit';
import { Type } from 'class-transformer';
import { IsInt, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { ControlGroupService } from './control-group.service';
import { DrillReports } from './drill-reports';

const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** POST /control/switchover. */
export class SwitchoverRequestDto {
  @IsString()
  @Matches(BUCKET_PATTERN, { message: 'bucket must be a bucket name' })
  bucket!: string;

  @IsString()
  @Matches(REGION_PATTERN, { message: 'to must be a region name' })
  to!: string;
}

const DRILL_ID_PATTERN = /^[A-Za-z0-9-]{1,64}$/;

/** POST /control/drills/claim. */
export class DrillClaimDto {
  @IsString()
  @Matches(DRILL_ID_PATTERN, { message: 'id must be letters, digits and dashes (at most 64)' })
  id!: string;

  @IsString()
  @Matches(REGION_PATTERN, { message: 'region must be a region name' })
  region!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(120)
  by!: string;

  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(24 * 3600)
  ttlSeconds!: number;
}

/** POST /control/drills/release. */
export class DrillReleaseDto {
  @IsString()
  @Matches(DRILL_ID_PATTERN, { message: 'id must be letters, digits and dashes (at most 64)' })
  id!: string;
}

/** The operator's view of the control group, and planned switchovers. */
@ApiTags('control')
@ApiBearerAuth()
@Access('operator')
@Controller('control')
export class ControlController {
  constructor(
    private readonly control: ControlGroupService,
    private readonly drills: DrillReports,
  ) {}

  @Get()
  @ApiOperation({ summary: 'The control group: voters, leader, regions down by majority, every active-passive bucket’s home and epoch, this region’s checks and lease' })
  view(): ControlGroupView {
    return this.control.view();
  }

  @Get('route/:bucket')
  @ApiOperation({ summary: 'Where a client should send a bucket’s reads and writes: the home for writes (active-passive), the nearest healthy region holding it for reads, from measured round trips and free storage' })
  route(@Param('bucket') bucket: string): Promise<BucketRoute> {
    if (!BUCKET_PATTERN.test(bucket)) throw new CairnError(MetadataErrorCodes.InvalidArgument, 'bucket must be a bucket name');
    return this.control.route(bucket);
  }

  @Post('switchover')
  @HttpCode(200)
  @ApiOperation({ summary: 'Planned switchover of a bucket’s home: drain the old home, wait for the new one to catch up, switch (409 when refused, 504 when the target cannot catch up in 30 s)' })
  switchover(@Body() dto: SwitchoverRequestDto): Promise<SwitchoverReply> {
    return this.control.switchover(dto.bucket, dto.to);
  }

  @Get('drills')
  @ApiOperation({ summary: 'Disaster-recovery drill reports kept in this region (cairn drill run), newest first' })
  drillReports(): Promise<DrillReport[]> {
    return this.drills.list();
  }

  @Post('drills/claim')
  @HttpCode(200)
  @ApiOperation({ summary: 'Claim the federation for one drill (409 while another drill holds an unexpired claim); the claim is kept by the control group' })
  claimDrill(@Body() dto: DrillClaimDto): Promise<DrillClaim> {
    return this.control.claimDrill(dto);
  }

  @Post('drills/release')
  @HttpCode(200)
  @ApiOperation({ summary: 'End a drill’s claim (another drill’s claim is left alone)' })
  async releaseDrill(@Body() dto: DrillReleaseDto): Promise<{ released: string }> {
    await this.control.releaseDrill(dto.id);
    return { released: dto.id };
  }

  @Post('drills')
  @HttpCode(201)
  @ApiOperation({ summary: 'Keep a drill report (as a DrillReported event on CLUSTER); cairn drill run sends it' })
  recordDrill(@Body() report: Record<string, unknown>): Promise<{ id: string; sequence: number }> {
    return this.drills.record(report);
  }
}

/** Metadata asks whether this region may acknowledge a bucket's writes. */
@Controller()
export class ControlRpcController {
  constructor(private readonly control: ControlGroupService) {}

  @MessagePattern(syncPattern(SyncRpc.bucketAuthority))
  authority(@Payload() payload: unknown): BucketAuthority {
    const r = payload as { bucket?: unknown; configuredHome?: unknown } | null;
    if (!r || typeof r.bucket !== 'string' || !BUCKET_PATTERN.test(r.bucket) || typeof r.configuredHome !== 'string' || !REGION_PATTERN.test(r.configuredHome)) {
      throw new CairnError(MetadataErrorCodes.InvalidArgument, 'a bucket authority request names a bucket and its configured home');
    }
    return this.control.authority(r.bucket, r.configuredHome);
  }

  @MessagePattern(syncPattern(SyncRpc.replicaPosition))
  replicaPosition(@Payload() payload: unknown): Promise<ReplicaPosition> {
    const r = payload as { source?: unknown } | null;
    if (!r || typeof r.source !== 'string' || !REGION_PATTERN.test(r.source)) throw new CairnError(MetadataErrorCodes.InvalidArgument, 'a replica position request names its source region');
    return this.control.replicaPosition(r.source);
  }
}

@Module({
  controllers: [ControlController, ControlRpcController],
  providers: [ControlGroupService, DrillReports],
  exports: [ControlGroupService],
})
export class ControlModule {}
