import { ApiProperty } from '@nestjs/swagger';
import { StorageClasses, type StorageClass } from '@cairn/protocol';
import { IsIn } from 'class-validator';

/** PUT /admin/buckets/:name/storage-class: the class objects get when their write names none. */
export class SetBucketStorageClassRequestDto {
  @ApiProperty({ enum: StorageClasses, example: 'STANDARD_IA', description: 'STANDARD keeps the region\'s replication factor of copies (CAIRN_REPLICATION_FACTOR, 3 by default), REDUCED_REDUNDANCY min(2, it); STANDARD_IA and GLACIER_IR are erasure-coded' })
  @IsIn(StorageClasses)
  defaultStorageClass!: StorageClass;
}
