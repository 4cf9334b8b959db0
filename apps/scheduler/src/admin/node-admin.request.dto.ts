import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { MetadataLimits } from '@cairn/protocol';

const NODE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const ZONE_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
const HOST_PATTERN = /^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/;

export class AddNodeRequestDto {
  @IsString()
  @Matches(NODE_ID_PATTERN, { message: 'nodeId must be 1-64 letters, digits, "_" or "-"' })
  nodeId!: string;

  /** Where the node's data plane answers, e.g. http://10.0.0.7:9201. */
  @IsString()
  @Matches(/^https?:\/\/[^\s/]+$/, { message: 'address must be an http(s)://host:port URL' })
  address!: string;

  @IsString()
  @Matches(ZONE_PATTERN, { message: 'zone must be lowercase letters, digits and "-"' })
  zone!: string;

  @IsOptional()
  @IsString()
  @Matches(HOST_PATTERN, { message: 'host must be a host name' })
  host?: string;

  @Type(() => Number)
  @IsInt()
  @Min(MetadataLimits.nodeWeightMin)
  @Max(MetadataLimits.nodeWeightMax)
  weight!: number;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  capacityBytes?: number;
}

export class ChangeNodeWeightRequestDto {
  @Type(() => Number)
  @IsInt()
  @Min(MetadataLimits.nodeWeightMin)
  @Max(MetadataLimits.nodeWeightMax)
  weight!: number;
}

export class DrainNodeQueryDto {
  /** Drain even if fewer active nodes than the replication factor would remain (chunks then keep fewer copies). */
  @IsOptional()
  @IsIn(['true', 'false'])
  force?: 'true' | 'false';
}

export class RemoveNodeQueryDto {
  /** Remove a node that cannot be listed (dead) or still holds chunks; its copies elsewhere are all that is left. */
  @IsOptional()
  @IsIn(['true', 'false'])
  force?: 'true' | 'false';
}

export const PLAN_CHANGES = ['add', 'remove', 'drain', 'weight'] as const;

export class PlanQueryDto {
  @IsIn(PLAN_CHANGES)
  change!: (typeof PLAN_CHANGES)[number];

  @IsString()
  @Matches(NODE_ID_PATTERN, { message: 'nodeId must be 1-64 letters, digits, "_" or "-"' })
  nodeId!: string;

  @IsOptional()
  @IsString()
  @Matches(ZONE_PATTERN, { message: 'zone must be lowercase letters, digits and "-"' })
  zone?: string;

  @IsOptional()
  @IsString()
  @Matches(HOST_PATTERN, { message: 'host must be a host name' })
  host?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(MetadataLimits.nodeWeightMin)
  @Max(MetadataLimits.nodeWeightMax)
  weight?: number;
}

/** More names than any ring holds is a mistake, not a request. */
const SCRUB_NODE_IDS_MAX = 4096;

export class ScrubNowRequestDto {
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(SCRUB_NODE_IDS_MAX)
  @IsString({ each: true })
  @Matches(NODE_ID_PATTERN, { each: true, message: 'each node id must be 1-64 letters, digits, "_" or "-"' })
  nodeIds?: string[];
}
