import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { LockGrant, LockInspection, LockRelease, LockRenewal } from '@cairn/protocol';
import { AcquireLockRequestDto } from './acquire-lock.request.dto';
import { ReleaseLockRequestDto } from './release-lock.request.dto';
import { RenewLockRequestDto } from './renew-lock.request.dto';
import { LocksService } from './locks.service';

/** The lock API over HTTP; any replica answers (followers forward to the leader). */
@ApiTags('locks')
@ApiParam({ name: 'resource', description: 'The lock name (URL-encoded)' })
@Controller('locks')
export class LocksController {
  constructor(private readonly locks: LocksService) {}

  @Post(':resource/acquire')
  @HttpCode(200)
  @ApiOperation({ summary: 'Acquire a lock; with waitMs > 0, queue (FIFO) until granted or timed out' })
  @ApiOkResponse({ description: '{ resource, owner, mode, fencingToken, expiresAtMs, leaseSecret } — keep leaseSecret: renew and release need it' })
  @ApiResponse({ status: 409, description: 'LOCK_CONFLICT, LOCK_DEADLOCK, LOCK_ALREADY_HELD, LOCK_ALREADY_WAITING' })
  @ApiResponse({ status: 408, description: 'LOCK_WAIT_TIMEOUT' })
  @ApiResponse({ status: 421, description: 'RAFT_NOT_LEADER: no leader is known; details.leader is the hint' })
  acquire(@Param('resource') resource: string, @Body() body: AcquireLockRequestDto): Promise<LockGrant> {
    return this.locks.acquire({ resource, owner: body.owner, mode: body.mode, ttlMs: body.ttlMs, waitMs: body.waitMs, requestId: body.requestId, leaseSecret: body.leaseSecret });
  }

  @Post(':resource/renew')
  @HttpCode(200)
  @ApiOperation({ summary: 'Extend a held lease to ttlMs from now' })
  @ApiOkResponse({ description: '{ resource, owner, fencingToken, expiresAtMs }' })
  @ApiResponse({ status: 409, description: 'LOCK_NOT_HELD: the lease expired or was released' })
  @ApiResponse({ status: 403, description: 'LOCK_SECRET_MISMATCH: leaseSecret is not the grant’s' })
  renew(@Param('resource') resource: string, @Body() body: RenewLockRequestDto): Promise<LockRenewal> {
    return this.locks.renew({ resource, owner: body.owner, fencingToken: body.fencingToken, leaseSecret: body.leaseSecret, ttlMs: body.ttlMs });
  }

  @Post(':resource/release')
  @HttpCode(200)
  @ApiOperation({ summary: 'Release a held lease; the next waiters are granted' })
  @ApiOkResponse({ description: '{ resource, owner, fencingToken }' })
  @ApiResponse({ status: 409, description: 'LOCK_NOT_HELD' })
  @ApiResponse({ status: 403, description: 'LOCK_SECRET_MISMATCH: leaseSecret is not the grant’s' })
  release(@Param('resource') resource: string, @Body() body: ReleaseLockRequestDto): Promise<LockRelease> {
    return this.locks.release({ resource, owner: body.owner, fencingToken: body.fencingToken, leaseSecret: body.leaseSecret });
  }

  @Get(':resource')
  @ApiOperation({ summary: 'Holders and waiters of a lock (linearizable read)' })
  @ApiOkResponse({ description: '{ resource, nowMs, lastFencingToken, holders, waiters } (never a lease secret)' })
  inspect(@Param('resource') resource: string): Promise<LockInspection> {
    return this.locks.inspect(resource);
  }
}
