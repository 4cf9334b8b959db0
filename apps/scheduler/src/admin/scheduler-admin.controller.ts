import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Access, WorkerRegistry } from '@cairn/service-kit';
import { ChunkRepairQueue } from '../repair/chunk-repair.queue';
import { ScrubQueue } from '../scrub/scrub.queue';
import { SweepQueue } from '../sweep/sweep.queue';
import { AddNodeRequestDto, ChangeNodeWeightRequestDto, DrainNodeQueryDto, PlanQueryDto, RemoveNodeQueryDto, ScrubNowRequestDto } from './node-admin.request.dto';
import { NodeAdminService } from './node-admin.service';

/** The operator's API for the region's self-healing: jobs and their progress, scrub, membership. */
@ApiTags('admin')
@ApiBearerAuth()
@Access('operator')
@Controller('admin')
export class SchedulerAdminController {
  constructor(
    private readonly sweep: SweepQueue,
    private readonly scrub: ScrubQueue,
    private readonly repairs: ChunkRepairQueue,
    private readonly nodes: NodeAdminService,
    private readonly workers: WorkerRegistry,
  ) {}

  @Get('jobs')
  @ApiOperation({ summary: 'Every job with done/total (chunks and bytes), rate and ETA: the sweep (repair, rebalance, gc), scrub per node, queued repairs' })
  async jobs() {
    const [sweep, scrub, repairQueue] = await Promise.all([this.sweep.reports(), this.scrub.reports(), this.repairs.counts()]);
    return { sweep, scrub, repairQueue, workers: this.workers.list() };
  }

  @Post('sweep')
  @HttpCode(202)
  @ApiOperation({ summary: 'Run the repair sweep now (repair, rebalance and garbage collection)' })
  sweepNow() {
    return this.sweep.requestSweep('admin');
  }

  @Get('scrub')
  @ApiOperation({ summary: 'Scrub progress and coverage per node' })
  async scrubStatus() {
    return { nodes: await this.scrub.reports() };
  }

  @Post('scrub')
  @HttpCode(202)
  @ApiOperation({ summary: 'Scrub now: a fresh pass at the fastest pace on the named nodes (all when none)' })
  async scrubNow(@Body() dto: ScrubNowRequestDto) {
    return { started: await this.scrub.scrubNow(dto.nodeIds) };
  }

  @Get('nodes')
  @ApiOperation({ summary: 'Storage nodes with what the last sweep found on each and whether it can be removed' })
  listNodes() {
    return this.nodes.list();
  }

  @Post('nodes')
  @ApiOperation({ summary: 'Add a storage node (zone, weight, address); a rebalance starts at once' })
  addNode(@Body() dto: AddNodeRequestDto) {
    return this.nodes.add(dto);
  }

  @Patch('nodes/:nodeId')
  @ApiOperation({ summary: 'Change a node’s weight; a rebalance starts at once' })
  changeWeight(@Param('nodeId') nodeId: string, @Body() dto: ChangeNodeWeightRequestDto) {
    return this.nodes.changeWeight(nodeId, dto.weight);
  }

  @Post('nodes/:nodeId/drain')
  @HttpCode(200)
  @ApiOperation({ summary: 'Drain a node: it takes no new chunks and its chunks move to the others (refused when fewer nodes than the replication factor would remain, unless force=true)' })
  drain(@Param('nodeId') nodeId: string, @Query() query: DrainNodeQueryDto) {
    return this.nodes.drain(nodeId, query.force === 'true');
  }

  @Delete('nodes/:nodeId')
  @ApiOperation({ summary: 'Remove a drained node once a sweep has seen it empty (force=true skips the checks)' })
  remove(@Param('nodeId') nodeId: string, @Query() query: RemoveNodeQueryDto) {
    return this.nodes.remove(nodeId, query.force === 'true');
  }

  @Get('plan')
  @ApiOperation({ summary: 'What if: the bytes a membership change would move, from where to where, and how long at the repair throttle' })
  plan(@Query() query: PlanQueryDto) {
    return this.nodes.plan(query);
  }
}
