import { BaseServiceConfig } from '@cairn/service-kit';
import { IsOptional, IsString, Matches } from 'class-validator';

export class MetadataConfig extends BaseServiceConfig {
  @IsString()
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'must be a postgres:// URL' })
  CAIRN_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

  /** The root access key, created on first start when no key by that id exists. */
  @IsOptional()
  @Matches(/^[A-Z0-9]{16,128}$/, { message: 'must be 16-128 uppercase letters or digits' })
  CAIRN_ROOT_ACCESS_KEY?: string;

  @IsOptional()
  @IsString()
  @Matches(/^\S{20,128}$/, { message: 'must be 20-128 characters without spaces' })
  CAIRN_ROOT_SECRET_KEY?: string;
}
