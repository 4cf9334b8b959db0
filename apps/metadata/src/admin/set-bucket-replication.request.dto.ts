import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { ReplicationConfig, ReplicationMode } from '@cairn/protocol';
import { IsIn, Matches, registerDecorator, ValidateIf, type ValidationArguments } from 'class-validator';

export const REPLICATION_MODES: readonly ReplicationMode[] = ['local', 'active-passive', 'active-active'];
/** A region id as CAIRN_REGION takes it (and the bucket decider checks): lowercase letters, digits and "-". */
export const REGION_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** homeRegion is given exactly when the mode is active-passive. */
function HomeRegionFitsMode(): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'homeRegionFitsMode',
      target: target.constructor,
      propertyName: String(propertyName),
      validator: {
        validate: (value: unknown, args: ValidationArguments) => ((args.object as SetBucketReplicationRequestDto).mode === 'active-passive') === (value !== undefined && value !== null),
        defaultMessage: (args: ValidationArguments) =>
          (args.object as SetBucketReplicationRequestDto).mode === 'active-passive'
            ? 'homeRegion is required for mode active-passive'
            : `homeRegion is only for mode active-passive, not ${String((args.object as SetBucketReplicationRequestDto).mode)}`,
      },
    });
}

export class SetBucketReplicationRequestDto {
  @ApiProperty({ enum: REPLICATION_MODES, example: 'active-passive', description: 'local: this region only; active-passive: writes go to homeRegion; active-active: every region takes writes' })
  @IsIn(REPLICATION_MODES)
  mode!: ReplicationMode;

  @ApiPropertyOptional({ example: 'region-1', description: 'The region taking writes: required for active-passive, refused otherwise' })
  // Checked when the mode needs it or it was given anyway (then refused by HomeRegionFitsMode).
  @ValidateIf((dto: SetBucketReplicationRequestDto) => dto.mode === 'active-passive' || dto.homeRegion !== undefined)
  @HomeRegionFitsMode()
  @Matches(REGION_ID_PATTERN, { message: 'homeRegion must be a region id: lowercase letters, digits and "-", starting with a letter or digit (e.g. region-1)' })
  homeRegion?: string;
}

/** The DTO as the protocol's ReplicationConfig. */
export function replicationOf(dto: SetBucketReplicationRequestDto): ReplicationConfig {
  return dto.mode === 'active-passive' ? { mode: dto.mode, homeRegion: String(dto.homeRegion) } : { mode: dto.mode };
}
