import { BaseServiceConfig } from '@cairn/service-kit';
import { IsString, Matches } from 'class-validator';

export class SchedulerConfig extends BaseServiceConfig {
  @IsString()
  @Matches(/^rediss?:\/\/\S+$/, { message: 'must be a redis:// URL' })
  CAIRN_REDIS_URL = 'redis://127.0.0.1:6379';
}
