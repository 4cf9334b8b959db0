import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { StorageClasses, type StorageClass } from '@cairn/protocol';
import { IsBoolean, IsIn, IsOptional, IsString, Length } from 'class-validator';

export class CreateBucketRequestDto {
  @ApiProperty({ example: 'photos', description: 'S3 bucket name rules (3-63 characters, lowercase, digits, dots, hyphens)' })
  @IsString()
  @Length(3, 63)
  bucket!: string;

  @ApiProperty({ example: 'alice' })
  @IsString()
  @Length(1, 256)
  owner!: string;

  @ApiPropertyOptional({ default: false })
  @IsOptional()
  @IsBoolean()
  versioningEnabled?: boolean;

  @ApiPropertyOptional({ enum: StorageClasses })
  @IsOptional()
  @IsIn(StorageClasses)
  defaultStorageClass?: StorageClass;
}
