import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { OPERATOR_ROLES, type OperatorRole } from '@cairn/protocol';

export class IssueOperatorTokenRequestDto {
  @ApiProperty({ enum: OPERATOR_ROLES, description: '`admin` may change anything the admin APIs offer; `read-only` may only read' })
  @IsIn(OPERATOR_ROLES)
  role!: OperatorRole;

  @ApiPropertyOptional({ example: 'prometheus', description: 'Who or what the token is for; shown in logs with its id' })
  @IsOptional()
  @IsString()
  @Matches(/^[\x20-\x7e]{0,64}$/, { message: 'label must be up to 64 printable ASCII characters' })
  label?: string;

  @ApiPropertyOptional({ example: 43200, description: 'Lifetime in seconds (default 12 h, at most 366 days)' })
  @IsOptional()
  @IsInt()
  @Min(60)
  @Max(366 * 24 * 3600)
  ttlSeconds?: number;
}
