import { Exclude, Expose, plainToInstance, Transform, Type, type ClassConstructor } from 'class-transformer';
import { IsEmail, IsInt, IsString, validate } from 'class-validator';
import { AcquireLockRpcRequestDto } from './acquire-lock.request.dto';
import { compiledDtoCheck } from './compiled-dto-check';
import { InspectLockRpcRequestDto } from './inspect-lock.request.dto';
import { validRequest } from './leader-rpc.responder';
import { ReleaseLockRpcRequestDto } from './release-lock.request.dto';
import { RenewLockRpcRequestDto } from './renew-lock.request.dto';

const SECRET = 'a'.repeat(43);

/** What validRequest did before the compiled check: class-transformer, then class-validator as the ValidationPipe runs it. */
async function classValidatorVerdict(dto: ClassConstructor<object>, payload: object): Promise<{ instance: object; messages: string[] }> {
  const instance = plainToInstance(dto, payload);
  const errors = await validate(instance, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
  return { instance, messages: errors.flatMap((e) => Object.values(e.constraints ?? {})) };
}

const VALID: ReadonlyArray<[ClassConstructor<object>, Record<string, unknown>]> = [
  [AcquireLockRpcRequestDto, { resource: 'r', owner: 'o', ttlMs: 1_000 }],
  [AcquireLockRpcRequestDto, { resource: 'r', owner: 'o', mode: 'shared', ttlMs: 600_000, waitMs: 600_000, requestId: 'req-1', leaseSecret: SECRET }],
  [RenewLockRpcRequestDto, { resource: 'r', owner: 'o', fencingToken: 3, leaseSecret: SECRET, ttlMs: 5_000 }],
  [ReleaseLockRpcRequestDto, { resource: 'r', owner: 'o', fencingToken: 3, leaseSecret: SECRET }],
  [InspectLockRpcRequestDto, { resource: 'r' }],
];

/** JSON values only: a payload reaches validRequest decoded from JSON. */
const VALUES: readonly unknown[] = [
  null,
  '',
  'r',
  ' ',
  'x'.repeat(64),
  'x'.repeat(65),
  'x'.repeat(256),
  'x'.repeat(257),
  '\uFE0F',
  'a\uFE0E',
  '\u{1F600}',
  '\u{1F600}'.repeat(128),
  '\u{1F600}'.repeat(129),
  'x'.repeat(255) + '\u{1F600}',
  '\uD800',
  'exclusive',
  'shared',
  'Exclusive',
  'exclusive ',
  SECRET,
  'a'.repeat(31),
  'a'.repeat(32),
  'a'.repeat(128),
  'a'.repeat(129),
  'a'.repeat(40) + '+',
  'a'.repeat(40) + '=',
  'a'.repeat(40) + '\n',
  '1000',
  '0x10',
  0,
  -0,
  1,
  -1,
  1.5,
  1e-9,
  599_999,
  600_000,
  600_001,
  2 ** 53,
  1e21,
  true,
  false,
  [],
  ['r'],
  {},
  { length: 3 },
];
const EXTRA_KEYS = ['extra', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__'];
const DTO_FIELDS = new Map<ClassConstructor<object>, string[]>([
  [AcquireLockRpcRequestDto, ['resource', 'owner', 'mode', 'ttlMs', 'waitMs', 'requestId', 'leaseSecret']],
  [RenewLockRpcRequestDto, ['resource', 'owner', 'fencingToken', 'leaseSecret', 'ttlMs']],
  [ReleaseLockRpcRequestDto, ['resource', 'owner', 'fencingToken', 'leaseSecret']],
  [InspectLockRpcRequestDto, ['resource']],
]);

/** A payload as JSON.parse makes it (`__proto__` becomes an own property, as it does off the wire). */
function fromJson(fields: ReadonlyArray<[string, unknown]>): Record<string, unknown> {
  return JSON.parse(`{${fields.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`) as Record<string, unknown>;
}

/** Every valid payload with one field removed or replaced by each value, and with each extra key. */
function oneFieldChanges(): Array<[ClassConstructor<object>, Record<string, unknown>]> {
  const cases: Array<[ClassConstructor<object>, Record<string, unknown>]> = [];
  for (const [dto, valid] of VALID) {
    const entries = Object.entries(valid);
    for (const field of DTO_FIELDS.get(dto)!) {
      const others = entries.filter(([k]) => k !== field);
      cases.push([dto, fromJson(others)]);
      for (const value of VALUES) cases.push([dto, fromJson([...others, [field, value]])]);
    }
    for (const key of EXTRA_KEYS) for (const value of [null, 'x', 1, {}]) cases.push([dto, fromJson([...entries, [key, value]])]);
  }
  return cases;
}

/** Random payloads: each field of the DTO (and sometimes an extra key) absent, valid (most often) or any of VALUES. */
function randomPayloads(count: number, seed: number): Array<[ClassConstructor<object>, Record<string, unknown>]> {
  let state = seed;
  const next = (n: number) => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return Math.floor((state / 2 ** 31) * n);
  };
  const cases: Array<[ClassConstructor<object>, Record<string, unknown>]> = [];
  for (let i = 0; i < count; i++) {
    const [dto, valid] = VALID[next(VALID.length)];
    const fields: Array<[string, unknown]> = [];
    for (const field of DTO_FIELDS.get(dto)!) {
      const pick = next(8);
      if (pick === 0) continue;
      fields.push([field, pick < 6 && field in valid ? valid[field] : VALUES[next(VALUES.length)]]);
    }
    if (next(8) === 0) fields.push([EXTRA_KEYS[next(EXTRA_KEYS.length)], VALUES[next(VALUES.length)]]);
    cases.push([dto, fromJson(fields)]);
  }
  return cases;
}

describe('compiledDtoCheck: the lock RPC DTOs checked without class-transformer and class-validator', () => {
  it('compiles a check for each lock RPC DTO', () => {
    for (const dto of DTO_FIELDS.keys()) expect(compiledDtoCheck(dto)).toBeInstanceOf(Function);
  });

  it('accepts each valid request, as the same instance class-transformer makes (defaults applied)', async () => {
    for (const [dto, payload] of VALID) {
      const reference = await classValidatorVerdict(dto, payload);
      expect(reference.messages).toEqual([]);
      expect(compiledDtoCheck(dto)!(payload)).toStrictEqual(reference.instance);
    }
    expect(compiledDtoCheck(AcquireLockRpcRequestDto)!({ resource: 'r', owner: 'o', ttlMs: 1 })).toMatchObject({ mode: 'exclusive', waitMs: 0 });
  });

  it.each([
    ['one field removed or replaced, or an extra key', oneFieldChanges],
    ['random payloads', () => randomPayloads(4_000, 7)],
  ])('accepts nothing class-validator refuses, and makes the same instance: %s', async (_, cases) => {
    let accepted = 0;
    let refused = 0;
    for (const [dto, payload] of cases()) {
      const reference = await classValidatorVerdict(dto, payload);
      const fast = compiledDtoCheck(dto)!(payload);
      if (reference.messages.length > 0) {
        refused++;
        if (fast !== undefined) throw new Error(`${dto.name} accepted ${JSON.stringify(payload)}, which class-validator refuses: ${reference.messages.join('; ')}`);
      } else {
        accepted++;
        // class-transformer lets some keys of Object.prototype's names through (`constructor`,
        // `valueOf`): the compiled check leaves any key outside the DTO to class-validator.
        const outside = Object.keys(payload).some((k) => !DTO_FIELDS.get(dto)!.includes(k));
        if (fast === undefined && !outside) throw new Error(`${dto.name} left ${JSON.stringify(payload)} to class-validator, which accepts it`);
        if (fast !== undefined) expect(fast).toStrictEqual(reference.instance);
        expect(await validRequest(dto, payload)).toStrictEqual(reference.instance);
      }
    }
    expect(refused).toBeGreaterThan(100);
    expect(accepted).toBeGreaterThan(10);
  });

  it('leaves every refusal to class-validator: validRequest words each error as it did', async () => {
    for (const [dto, payload] of [...oneFieldChanges(), ...randomPayloads(500, 11)]) {
      const reference = await classValidatorVerdict(dto, payload);
      if (reference.messages.length === 0) continue;
      await expect(validRequest(dto, payload)).rejects.toMatchObject({ code: 'INVALID_COMMAND' });
      const message = await validRequest(dto, payload).catch((e: Error) => e.message);
      for (const m of reference.messages) expect(message).toContain(m);
    }
  });

  it('compiles no check for a DTO with a rule it does not know', () => {
    class WithEmail {
      @IsString()
      @IsEmail()
      address!: string;
    }
    expect(compiledDtoCheck(WithEmail)).toBeUndefined();
  });

  it('compiles no check for a DTO class-transformer would change (@Transform, @Type, @Expose, @Exclude)', () => {
    class Trimmed {
      @IsString()
      @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
      resource!: string;
    }
    class Typed {
      @IsInt()
      @Type(() => Number)
      ttlMs!: number;
    }
    class Renamed {
      @IsString()
      @Expose({ name: 'lock' })
      resource!: string;
    }
    @Exclude()
    class ExcludedByDefault {
      @IsString()
      @Expose()
      resource!: string;
    }
    for (const dto of [Trimmed, Typed, Renamed, ExcludedByDefault] as ClassConstructor<object>[]) expect(compiledDtoCheck(dto)).toBeUndefined();
    // What the fast check would have accepted as-is, class-transformer turns into something else.
    expect(plainToInstance(Trimmed, { resource: ' r ' }).resource).toBe('r');
    expect(plainToInstance(Renamed, { lock: 'r' }).resource).toBe('r');
  });
});
