import { AcquireLockRpcRequestDto } from './acquire-lock.request.dto';
import { InspectLockRpcRequestDto } from './inspect-lock.request.dto';
import { validRequest } from './leader-rpc.responder';
import { ReleaseLockRpcRequestDto } from './release-lock.request.dto';

const secret = 'A'.repeat(43);

describe('validRequest (the lock RPC DTO check the leader runs)', () => {
  it('applies the DTO defaults to a valid request', async () => {
    const request = await validRequest(AcquireLockRpcRequestDto, { resource: 'r', owner: 'o', ttlMs: 1_000 });
    expect({ ...request }).toEqual({ resource: 'r', owner: 'o', ttlMs: 1_000, mode: 'exclusive', waitMs: 0 });
  });

  it.each([
    ['a missing resource', AcquireLockRpcRequestDto, { owner: 'o', ttlMs: 1_000 }, /resource/],
    ['a ttl of 0', AcquireLockRpcRequestDto, { resource: 'r', owner: 'o', ttlMs: 0 }, /ttlMs/],
    ['an unknown mode', AcquireLockRpcRequestDto, { resource: 'r', owner: 'o', ttlMs: 1_000, mode: 'sideways' }, /mode/],
    ['a property the DTO does not have', AcquireLockRpcRequestDto, { resource: 'r', owner: 'o', ttlMs: 1_000, extra: true }, /extra should not exist/],
    ['a release without its secret', ReleaseLockRpcRequestDto, { resource: 'r', owner: 'o', fencingToken: 1 }, /leaseSecret/],
    ['a non-string resource', InspectLockRpcRequestDto, { resource: 7 }, /resource/],
    ['null', InspectLockRpcRequestDto, null, /JSON object/],
    ['an array', InspectLockRpcRequestDto, [{ resource: 'r' }], /JSON object/],
  ])('refuses %s with INVALID_COMMAND', async (_case, dto, payload, message) => {
    await expect(validRequest(dto as new () => object, payload)).rejects.toMatchObject({ code: 'INVALID_COMMAND', message: expect.stringMatching(message) });
  });

  it('accepts a release with its secret', async () => {
    await expect(validRequest(ReleaseLockRpcRequestDto, { resource: 'r', owner: 'o', fencingToken: 1, leaseSecret: secret })).resolves.toMatchObject({ fencingToken: 1 });
  });
});
