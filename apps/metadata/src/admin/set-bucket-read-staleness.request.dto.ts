import { ApiProperty } from '@nestjs/swagger';
import { READ_STALENESS_SECONDS_MAX, type ReplicationConfig } from '@cairn/protocol';
import { registerDecorator, type ValidationArguments } from 'class-validator';

/** 'read-your-writes' (the default) or whole seconds from 1 to a day. */
function IsReadStaleness(): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isReadStaleness',
      target: target.constructor,
      propertyName: String(propertyName),
      validator: {
        validate: (value: unknown) => value === 'read-your-writes' || (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= READ_STALENESS_SECONDS_MAX),
        defaultMessage: (args: ValidationArguments) => `${args.property} must be "read-your-writes" or whole seconds from 1 to ${READ_STALENESS_SECONDS_MAX}`,
      },
    });
}

/** PUT /admin/buckets/:name/read-staleness. */
export class SetBucketReadStalenessRequestDto {
  @ApiProperty({
    oneOf: [{ type: 'string', enum: ['read-your-writes'] }, { type: 'integer', minimum: 1, maximum: READ_STALENESS_SECONDS_MAX }],
    example: 5,
    description:
      'How far behind the home another region may be and still serve reads of the bucket itself, in seconds; "read-your-writes" (the default): each client sees its own writes through that region, otherwise whatever the region holds',
  })
  @IsReadStaleness()
  readStaleness!: 'read-your-writes' | number;
}

/** The bucket's read staleness as the admin API shows it. */
export function readStalenessOf(replication: ReplicationConfig): 'read-your-writes' | number {
  return replication.mode === 'active-passive' && replication.readStalenessSeconds !== undefined ? replication.readStalenessSeconds : 'read-your-writes';
}

/** The replication with the new bound (active-passive only: other modes have no home to be behind). */
export function withReadStaleness(replication: ReplicationConfig & { mode: 'active-passive' }, staleness: 'read-your-writes' | number): ReplicationConfig {
  const { readStalenessSeconds: _previous, ...rest } = replication;
  return staleness === 'read-your-writes' ? rest : { ...rest, readStalenessSeconds: staleness };
}
