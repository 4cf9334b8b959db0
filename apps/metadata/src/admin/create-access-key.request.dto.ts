import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';

export class CreateAccessKeyRequestDto {
  @ApiProperty({ example: 'alice', description: 'Who the key acts as; "root" is reserved for the bootstrapped key' })
  @IsString()
  @Length(1, 256)
  owner!: string;
}
