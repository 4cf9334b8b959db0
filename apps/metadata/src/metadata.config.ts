import { BaseServiceConfig } from '@cairn/service-kit';
import { IsString, Matches } from 'class-validator';

export class MetadataConfig extends BaseServiceConfig {
  @IsString()
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'must be a postgres:// URL' })
  CAIRN_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
}
