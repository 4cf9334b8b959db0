import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { LockGrant, LockInspection, LockRelease, LockRenewal } from '@cairn/protocol';
import { AcquireLockRpcRequestDto } from './acquire-lock.request.dto';
import { InspectLockRpcRequestDto } from './inspect-lock.request.dto';
import { ReleaseLockRpcRequestDto } from './release-lock.request.dto';
import { RenewLockRpcRequestDto } from './renew-lock.request.dto';
import { LocksService } from './locks.service';

/** The lock API on NATS request/reply, `rpc.lock-manager.<op>`; any replica answers. */
@Controller()
export class LocksRpcController {
  constructor(private readonly locks: LocksService) {}

  @MessagePattern('lock-manager.acquire')
  acquire(@Payload() request: AcquireLockRpcRequestDto): Promise<LockGrant> {
    return this.locks.acquire({ ...request });
  }

  @MessagePattern('lock-manager.renew')
  renew(@Payload() request: RenewLockRpcRequestDto): Promise<LockRenewal> {
    return this.locks.renew({ ...request });
  }

  @MessagePattern('lock-manager.release')
  release(@Payload() request: ReleaseLockRpcRequestDto): Promise<LockRelease> {
    return this.locks.release({ ...request });
  }

  @MessagePattern('lock-manager.inspect')
  inspect(@Payload() request: InspectLockRpcRequestDto): Promise<LockInspection> {
    return this.locks.inspect(request.resource);
  }
}
