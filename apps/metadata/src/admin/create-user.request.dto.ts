import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';

export class CreateUserRequestDto {
  @ApiProperty({ example: 'alice', description: 'The user name: what its access keys name as owner' })
  @IsString()
  @Length(1, 64)
  user!: string;

  @ApiPropertyOptional({ example: 'Alice Liddell', description: 'Shown as DisplayName in S3 answers; defaults to the name' })
  @IsOptional()
  @IsString()
  @Length(1, 128)
  displayName?: string;

  @ApiPropertyOptional({ example: 'alice@example.com', description: 'What an emailAddress grant (x-amz-grant-*, AmazonCustomerByEmail) names' })
  @IsOptional()
  @IsString()
  @Length(3, 254)
  email?: string;
}
