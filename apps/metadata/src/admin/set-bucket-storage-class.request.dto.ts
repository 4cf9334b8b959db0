import { ApiProperty } from '@nestjs/swagger';
import { StorageClasses, type StorageClass } from '@cairn/protocol';
import { IsIn } from 'class-validator';

/** PUT /admin/buckets/:name/storage-class: the class objects get when their write names none. */
export class SetBucketStorageClassRequestDto {
  @ApiProperty({ enum: StorageClasses, example: 'STANDARD_IA', description: 'STANDARD and REDUCED_REDUNDANCY keep 3 and 2 copies; STANDARD_IA and GLACIER_IR are erasure-coded' })
  @IsIn(StorageClasses)
  defaultStorageClass!: StorageClass;
}
