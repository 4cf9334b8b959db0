import { Body, Controller, Delete, Get, HttpCode, Logger, Param, Post, Put, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Access, ClusterCredentials, describeCaller, type AuthenticatedRequest } from '@cairn/service-kit';
import { MetadataErrorCodes } from '@cairn/protocol';
import { MetadataReadModel } from '../adapters/metadata-read-model';
import { AccessKeyQueries } from '../access-key/access-key.queries';
import { BucketQueries } from '../bucket/bucket.queries';
import { MembershipQueries } from '../membership/membership.queries';
import { AccessKeyCommandsHandler } from '../access-key/access-key-commands.handler';
import { BucketCommandsHandler } from '../bucket/bucket-commands.handler';
import { ConflictLogQueries, conflictWindowOf } from '../conflict-log/conflict-log.queries';
import { MetadataError } from '../domain/shared/metadata.errors';
import { ProjectionTracker } from '../projections/projection-tracker';
import { CreateAccessKeyRequestDto } from './create-access-key.request.dto';
import { CreateUserRequestDto } from './create-user.request.dto';
import { UserCommandsHandler } from '../user/user-commands.handler';
import { UserQueries } from '../user/user.queries';
import { CreateBucketRequestDto } from './create-bucket.request.dto';
import { IssueOperatorTokenRequestDto } from './issue-operator-token.request.dto';
import { ListConflictsQueryDto } from './list-conflicts.request.dto';
import { replicationOf, SetBucketReplicationRequestDto } from './set-bucket-replication.request.dto';
import { SetBucketStorageClassRequestDto } from './set-bucket-storage-class.request.dto';
import { readStalenessOf, SetBucketReadStalenessRequestDto, withReadStaleness } from './set-bucket-read-staleness.request.dto';

/**
 * The operator's HTTP API: buckets (and their replication and conflict log), access keys, operator
 * tokens, nodes, ring epoch, projection lag, rebuild. Operators reach it with a token (`read-only`
 * for the GETs); services with a signature.
 */
@ApiTags('admin')
@ApiBearerAuth()
@Access('operator')
@Controller('admin')
export class MetadataAdminController {
  private readonly logger = new Logger('MetadataAdmin');

  constructor(
    private readonly credentials: ClusterCredentials,
    private readonly buckets: BucketCommandsHandler,
    private readonly accessKeys: AccessKeyCommandsHandler,
    private readonly users: UserCommandsHandler,
    private readonly projection: ProjectionTracker,
    private readonly readModel: MetadataReadModel,
  ) {}

  @Get('buckets')
  @ApiOperation({ summary: 'List buckets (of one owner when given)' })
  @ApiQuery({ name: 'owner', required: false })
  async listBuckets(@Query('owner') owner?: string) {
    return { buckets: await (await this.readModel.queries(BucketQueries)).listBuckets(owner || undefined) };
  }

  @Get('buckets/:name')
  @ApiOperation({ summary: 'One bucket' })
  async getBucket(@Param('name') name: string) {
    const view = await (await this.readModel.queries(BucketQueries)).getBucket(name);
    if (!view) throw new MetadataError(MetadataErrorCodes.NoSuchBucket, `bucket ${name} does not exist`, { bucket: name });
    return view;
  }

  @Post('buckets')
  @ApiOperation({ summary: 'Create a bucket; the reply carries the stream sequence it was appended at' })
  createBucket(@Body() dto: CreateBucketRequestDto) {
    return this.buckets.create(dto);
  }

  @Delete('buckets/:name')
  @ApiOperation({ summary: 'Delete an empty bucket (seal, count, delete); 409 BucketNotEmpty otherwise' })
  deleteBucket(@Param('name') name: string) {
    return this.buckets.delete(name);
  }

  @Put('buckets/:name/replication')
  @ApiOperation({ summary: "Set a bucket's replication between regions (local, active-passive with its home region, active-active); answers the bucket" })
  async setBucketReplication(@Param('name') name: string, @Body() dto: SetBucketReplicationRequestDto) {
    const replication = replicationOf(dto);
    // Setting the same home again keeps the bucket's read staleness bound (a drill does, before every run).
    const current = await this.liveReplication(name).catch(() => null);
    const kept = replication.mode === 'active-passive' && current?.mode === 'active-passive' && current.homeRegion === replication.homeRegion ? withReadStaleness(replication, readStalenessOf(current)) : replication;
    const handled = await this.buckets.execute({ type: 'SetBucketReplication', bucket: name, replication: kept });
    await this.projection.waitFor('META', handled.sequence);
    return this.getBucket(name);
  }

  @Get('buckets/:name/read-staleness')
  @ApiOperation({ summary: "How current another region's copy of an active-passive bucket must be to serve its reads: seconds behind the home, or read-your-writes (the default)" })
  async getBucketReadStaleness(@Param('name') name: string) {
    const replication = await this.liveReplication(name);
    return { bucket: name, replication, readStaleness: readStalenessOf(replication) };
  }

  @Put('buckets/:name/read-staleness')
  @ApiOperation({
    summary:
      "Set how far behind the home another region may be and still serve an active-passive bucket's reads (seconds), or read-your-writes (the default); a region further behind waits up to 1 s, then answers 503 SlowDown naming the home",
  })
  async setBucketReadStaleness(@Param('name') name: string, @Body() dto: SetBucketReadStalenessRequestDto) {
    const current = await this.liveReplication(name);
    if (current.mode !== 'active-passive') {
      throw new MetadataError(MetadataErrorCodes.InvalidArgument, `bucket ${name} is ${current.mode}: a read staleness bound is for active-passive buckets (the home is what the other regions are behind)`, { bucket: name });
    }
    const replication = withReadStaleness(current, dto.readStaleness);
    const handled = await this.buckets.execute({ type: 'SetBucketReplication', bucket: name, replication });
    await this.projection.waitFor('META', handled.sequence);
    return { bucket: name, replication, readStaleness: readStalenessOf(replication) };
  }

  /** The bucket's replication as its own events have it (the projection's view does not carry the staleness bound). */
  private async liveReplication(name: string) {
    const read = await this.buckets.read(name);
    if (read.state.status !== 'live') throw new MetadataError(MetadataErrorCodes.NoSuchBucket, `bucket ${name} does not exist`, { bucket: name });
    return read.state.replication;
  }

  @Put('buckets/:name/storage-class')
  @ApiOperation({ summary: "Set a bucket's default storage class (what a PUT, copy or multipart upload without x-amz-storage-class gets); answers the bucket" })
  async setBucketStorageClass(@Param('name') name: string, @Body() dto: SetBucketStorageClassRequestDto) {
    const handled = await this.buckets.execute({ type: 'SetBucketDefaultStorageClass', bucket: name, defaultStorageClass: dto.defaultStorageClass });
    await this.projection.waitFor('META', handled.sequence);
    return this.getBucket(name);
  }

  @Get('buckets/:name/conflicts')
  @ApiOperation({ summary: "The conflicts resolved on a bucket's keys between regions, oldest first; a page ends with nextAfter for the next" })
  async listConflicts(@Param('name') name: string, @Query() query: ListConflictsQueryDto) {
    const window = conflictWindowOf(query);
    return (await this.readModel.queries(ConflictLogQueries)).listConflicts(name, window);
  }

  @Post('users')
  @ApiOperation({ summary: 'Create a user (an account: owner of buckets, acted for by access keys); its canonical id follows from its name' })
  createUser(@Body() dto: CreateUserRequestDto) {
    return this.users.create({ user: dto.user, ...(dto.displayName !== undefined ? { displayName: dto.displayName } : {}), ...(dto.email !== undefined ? { email: dto.email } : {}) });
  }

  @Get('users')
  @ApiOperation({ summary: 'List users (owners of access keys made before users were recorded included)' })
  async listUsers() {
    return { users: await (await this.readModel.queries(UserQueries)).list() };
  }

  @Post('access-keys')
  @ApiOperation({ summary: 'Create an access key; the reply is the only place the secret is shown' })
  createAccessKey(@Body() dto: CreateAccessKeyRequestDto) {
    return this.accessKeys.create(dto.owner);
  }

  @Get('access-keys')
  @ApiOperation({ summary: 'List access keys (secrets blanked)' })
  @ApiQuery({ name: 'owner', required: false })
  async listAccessKeys(@Query('owner') owner?: string) {
    return { accessKeys: await (await this.readModel.queries(AccessKeyQueries)).listAccessKeys(owner || undefined) };
  }

  @Delete('access-keys/:id')
  @ApiOperation({ summary: 'Revoke an access key (its id stays taken)' })
  revokeAccessKey(@Param('id') id: string) {
    return this.accessKeys.revoke(id);
  }

  @Post('tokens')
  @ApiOperation({ summary: 'Issue an operator token (admin only); the reply is the only place it is shown' })
  issueOperatorToken(@Body() dto: IssueOperatorTokenRequestDto, @Req() req: AuthenticatedRequest) {
    const { token, claims } = this.credentials.mintOperatorToken({ role: dto.role, label: dto.label, ttlMs: dto.ttlSeconds === undefined ? undefined : dto.ttlSeconds * 1000 });
    this.logger.log(`issued ${claims.role} operator token ${claims.id} (${claims.label || 'no label'}) to ${describeCaller(req.caller)}, expires ${new Date(claims.expiresAtMs).toISOString()}`);
    return { token, id: claims.id, role: claims.role, label: claims.label, expiresAt: new Date(claims.expiresAtMs).toISOString() };
  }

  @Get('whoami')
  @ApiOperation({ summary: 'The credential this request was made with (role, token id, expiry)' })
  whoami(@Req() req: AuthenticatedRequest) {
    return { caller: req.caller ?? null };
  }

  @Get('nodes')
  @ApiOperation({ summary: 'Storage nodes as membership events left them' })
  async listNodes() {
    const queries = await this.readModel.queries(MembershipQueries);
    const [nodes, epoch] = await Promise.all([queries.listStorageNodes(), queries.ringEpoch()]);
    return { nodes, epoch };
  }

  @Get('ring/epoch')
  @ApiOperation({ summary: 'The current ring epoch (count of membership events projected)' })
  async ringEpoch() {
    return { epoch: await (await this.readModel.queries(MembershipQueries)).ringEpoch() };
  }

  @Get('projections')
  @ApiOperation({ summary: 'Projection checkpoint, stream last sequence and lag, per stream' })
  async projections() {
    return { streams: await this.projection.status(), rebuild: this.projection.rebuildStatus() };
  }

  @Post('rebuild')
  @HttpCode(200)
  @ApiOperation({ summary: 'Drop the projected rows and replay both streams; answers when done, with counts' })
  async rebuild() {
    const { started, done } = this.projection.startRebuild();
    if (!started) throw new MetadataError(MetadataErrorCodes.OperationAborted, 'a rebuild is already running on this instance');
    const progress = await done;
    if (progress.state === 'failed') throw new Error(`rebuild failed: ${progress.error}`);
    return progress;
  }

  @Get('rebuild')
  @ApiOperation({ summary: 'Progress of the running (or last) rebuild of this instance' })
  rebuildStatus() {
    return this.projection.rebuildStatus();
  }
}
